# hull run --image --vm (the image's cached erofs disk as the guest's root)
# and hull ct --vm (a system container booted as a microVM).  Three boots
# in all: nested boots are slow.

# vm_layout LAYOUT NAME CONFIG [ROOTFS]: a one-layer image of ROOTFS (the
# test rootfs), its image config's "config" object CONFIG; prints the
# manifest's hex digest.
vm_layout() {
	local l=$1 name=$2 cfg=$3 root=${4:-$work/rootfs} f h s ch cs lh ls mh ms
	mkdir -p "$l/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$l/oci-layout"
	blob() {
		h=$(sha256sum "$1" | cut -c1-64)
		s=$(stat -c %s "$1")
		mv "$1" "$l/blobs/sha256/$h"
	}
	tar -C "$root" -czf "$l/layer" .
	blob "$l/layer"; lh=$h ls=$s
	jq -n --argjson cfg "$cfg" '{architecture:"amd64",os:"linux",config:$cfg,
		rootfs:{type:"layers",diff_ids:[]}}' > "$l/config"
	blob "$l/config"; ch=$h cs=$s
	jq -n --arg c "sha256:$ch" --argjson cs "$cs" --arg l "sha256:$lh" --argjson ls "$ls" \
		'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
		  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},
		  layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$l,size:$ls}]}' \
		> "$l/manifest"
	blob "$l/manifest"; mh=$h ms=$s
	jq -n --arg m "sha256:$mh" --argjson ms "$ms" --arg n "$name" \
		'{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",
		  digest:$m,size:$ms,annotations:{"org.opencontainers.image.ref.name":$n}}]}' \
		> "$l/index.json"
	echo "$mh"
}

ihull() {
	timeout -k 10 300 "$HULL" --root "$work/state" "$@"
}

# Two boots of one image: the image's Entrypoint/Cmd, Env, WorkingDir and
# User, its exit status; then a CMD that writes (the guest's tmpfs
# overlay), and the same disk file, not rebuilt.
test_image_run_vm_disk_reused() {
	export HULL_IMAGE_STORE=$work/store
	local mh disk ino mtime out st
	command -v mkfs.erofs >/dev/null || { echo "skipped: no mkfs.erofs"; return 0; }
	mh=$(vm_layout "$work/layout-img" vmimg:1 '{"Entrypoint":["/bin/sh","-c"],
		"Cmd":["echo from-image $GREETING $(id -u) $(pwd); exit 4"],
		"Env":["GREETING=hi","PATH=/bin"],"WorkingDir":"/home/alice","User":"alice"}')
	ihull image import "$work/layout-img"
	st=0
	out=$(ihull run --image vmimg:1 --vm --kernel "$KERNEL" --name vmimg-a) || st=$?
	expect_eq "output" "$out" "from-image hi 1000 /home/alice"
	expect_eq "status" "$st" 4
	disk=$HULL_IMAGE_STORE/disks/$mh.erofs
	[ -f "$disk" ] || fail "no disk at $disk: $(ls -R "$HULL_IMAGE_STORE/disks" 2>&1)"
	ino=$(stat -c %i "$disk") mtime=$(stat -c %Y.%y "$disk")
	[ -z "$(ls -A "$work/state")" ] || fail "left in the state root: $(ls -A "$work/state")"
	out=$(ihull run --image vmimg:1 --vm --kernel "$KERNEL" --name vmimg-b -- \
		'echo written > /home/alice/new; cat /home/alice/new; id -un')
	expect_eq "CMD output" "$out" "$(printf 'written\nalice')"
	expect_eq "disk inode" "$(stat -c %i "$disk")" "$ino"
	expect_eq "disk mtime" "$(stat -c %Y.%y "$disk")" "$mtime"
	expect_eq "disks" "$(ls "$HULL_IMAGE_STORE/disks")" "$mh.erofs"
	[ ! -e "$HULL_IMAGE_STORE/rootfs/$mh/home/alice/new" ] || fail "the shared image was written"
	[ -z "$(ls -A "$work/state")" ] || fail "left in the state root: $(ls -A "$work/state")"
}

ctv() {
	timeout -k 10 300 "$HULL" --root "$work/state" ct --lib-dir "$work/ctlib" "$@"
}

# create --vm, start (the VMM is the container's process, /sbin/init the
# guest's workload), status, exec, stop (SIGPWR forwarded to the
# guest's init, which exits on it), destroy: nothing left.
test_ct_vm_lifecycle() {
	local r=$work/ct-rootfs n=vmct log pid cg
	[ "$KERNEL" = /var/cache/hull/kernel/vmlinux ] ||
		{ echo "skipped: ct --vm boots the default kernel, not $KERNEL"; return 0; }
	rm -rf "$r" && cp -a "$work/rootfs" "$r" && mkdir -p "$r/sbin"
	cat > "$r/sbin/init" <<'EOF'
#!/bin/sh
trap 'echo init-stopping; exit 0' PWR
echo "init-started $(hostname)"
while :; do sleep 1; done
EOF
	chmod 755 "$r/sbin/init"
	ctv create "$n" --rootfs "$r" --vm --ip none   # networking: t_net.sh
	expect_eq "saved isolation" "$(jq -r .isolation "$work/ctlib/ct/$n/ct.json")" vm
	ctv start "$n"
	log=$work/ctlib/ct/$n/console.log
	for _ in $(seq 240); do
		grep -q init-started "$log" 2>/dev/null && break
		sleep 0.5
	done
	grep -q "init-started $n" "$log" || fail "the guest's init did not start: $(cat "$log")"
	expect_eq "state" "$(ctv status --json "$n" | jq -r .state)" running
	expect_eq "isolation" "$(ctv status "$n" | awk '/^isolation:/ {print $2}')" vm
	expect_eq "isolation (json)" "$(ctv status --json "$n" | jq -r .isolation)" vm
	pid=$(ctv status --json "$n" | jq -r .pid)
	case $(readlink "/proc/$pid/exe") in */hull-vmm) ;; *) fail "pid $pid is not the VMM" ;; esac
	st=0
	out=$(ctv exec "$n" -- sh -c 'echo in-ct; exit 3') || st=$?
	expect_eq "exec status" "$st" 3
	expect_eq "exec output" "$out" in-ct
	ctv stop --timeout 60 "$n"
	grep -q init-stopping "$log" || fail "init was not asked to stop: $(cat "$log")"
	expect_eq "state after stop" "$(ctv status --json "$n" | jq -r .state)" stopped
	[ ! -e "/proc/$pid" ] || fail "the VMM $pid still runs"
	ctv destroy "$n"
	[ ! -e "$work/ctlib/ct/$n" ] || fail "ct dir left"
	[ ! -e "$work/state/ct-$n" ] || fail "state left"
	for cg in /sys/fs/cgroup/*/hull/ct-"$n" /sys/fs/cgroup/hull/ct-"$n"; do
		[ ! -e "$cg" ] || fail "cgroup $cg left"
	done
}
