# An engine choosing microVM isolation per workload.  Mostly podman (as root, with
# private storage and config under $work/engine, cgroupfs, --network none)
# runs hull as its OCI runtime (--runtime, a wrapper that logs each call)
# and asks for a VM with --annotation org.hull.isolation=vm.  The image is
# the test rootfs, imported offline (as tests/engines does).  Every test
# checks what podman reports and that nothing is left: no VMM process, no
# state directory under hull's root, no cgroup.  containerd (ctr run
# --annotation) and Docker (a runtime with runtimeArgs ["--vm"]) at the end.

ENG_IMG=localhost/hbb-vm:latest
ENG_VM=(--annotation org.hull.isolation=vm)

# epm ARGS...: podman with the test's own configuration.
epm() {
	local d=$work/engine
	CONTAINERS_CONF=$d/containers.conf CONTAINERS_STORAGE_CONF=$d/storage.conf \
	CONTAINERS_REGISTRIES_CONF=$d/registries.conf XDG_CONFIG_HOME=$d/xdg \
		timeout -k 10 300 podman --runtime "$d/hull-rt" "$@"
}

# eng_setup: the wrapper, podman's configuration and the image, once per
# run.sh (the tests run in subshells: a marker file says it is done).
# Prints "skipped: ..." and fails when podman cannot run here.
eng_setup() {
	local d=$work/engine
	# What other tests of this boot left under hull's default root is not
	# this test's leftover.
	ls -A /run/hull 2>/dev/null > "$work/run-hull-before"
	[ -e "$d/ready" ] && return 0
	command -v podman >/dev/null && command -v conmon >/dev/null ||
		{ echo "skipped: podman or conmon is not installed"; return 1; }
	rm -rf "$d" && mkdir -p "$d/xdg" "$d/tmp" "$d/disks"
	# conmon gives the runtime a bare environment: the disk cache (in the
	# test host VM, /var is the host's, read-only) is set here.
	cat > "$d/hull-rt" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$*" >> "$d/rt.log"
	export HULL_DISK_CACHE="$d/disks"
	exec "$HULL" "\$@"
	EOF
	chmod 755 "$d/hull-rt"
	cat > "$d/containers.conf" <<-EOF
	[containers]
	default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
	log_driver = "k8s-file"
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	events_logfile_path = "$d/events.log"
	tmp_dir = "$d/tmp"
	volume_path = "$d/volumes"
	runtime_supports_json = ["hull-rt"]
	EOF
	cat > "$d/storage.conf" <<-EOF
	[storage]
	driver = "overlay"
	graphroot = "$d/root"
	runroot = "$d/run"
	EOF
	echo 'unqualified-search-registries = []' > "$d/registries.conf"
	tar -C "$work/rootfs" -cf "$d/rootfs.tar" .
	epm import - "$ENG_IMG" < "$d/rootfs.tar" > /dev/null
	touch "$d/ready"
}

# vmm_pids: every running hull-vmm (the tests run one at a time).
vmm_pids() {
	local p
	for p in /proc/[0-9]*; do
		case $(readlink "$p/exe" 2>/dev/null) in */hull-vmm) echo "${p#/proc/}" ;; esac
	done
}

# eng_nothing_left [CGROUP]: no container, no VMM, no state dir, no cgroup.
eng_nothing_left() {
	expect_eq "podman containers left" "$(epm ps -aq)" ""
	expect_eq "VMM processes left" "$(vmm_pids | tr '\n' ' ')" ""
	expect_eq "state dirs left under /run/hull" \
		"$(ls -A /run/hull 2>/dev/null | grep -vxFf "$work/run-hull-before" | tr '\n' ' ')" ""
	[ -z "${1:-}" ] || [ ! -e "/sys/fs/cgroup$1" ] || fail "cgroup $1 left behind"
	# podman's cgroupfs manager puts containers in /libpod_parent/libpod-ID.
	expect_eq "container cgroups left" \
		"$(cd /sys/fs/cgroup && ls -d libpod_parent/libpod-* 2>/dev/null | tr '\n' ' ')" ""
}

# eng_called VERB: podman really ran hull VERB.
eng_called() {
	grep -Eq "(^| )$1( |$)" "$work/engine/rt.log" ||
		fail "podman never ran 'hull $1': $(cut -c1-80 "$work/engine/rt.log" | tr '\n' '|')"
}

# The workload runs in the guest (its kernel is not the test host VM's),
# its output reaches podman, and so do an exit status and a signal death.
test_engine_vm_podman_run_status() {
	local out rc
	eng_setup || return 0
	out=$(epm run --rm --network none "${ENG_VM[@]}" "$ENG_IMG" \
		sh -c 'echo hello-from-the-vm; uname -r; grep -c ^processor /proc/cpuinfo')
	expect_eq "first line" "$(echo "$out" | sed -n 1p)" hello-from-the-vm
	rel=$(echo "$out" | sed -n 2p)
	[ -n "$rel" ] && [ "$rel" != "$(uname -r)" ] ||
		fail "guest kernel '$rel' is the test host VM's ($(uname -r)): not a VM"
	eng_called create
	rc=0
	epm run --rm --network none "${ENG_VM[@]}" "$ENG_IMG" sh -c 'exit 3' || rc=$?
	expect_eq "exit status" "$rc" 3
	rc=0
	epm run --rm --network none "${ENG_VM[@]}" "$ENG_IMG" sh -c 'kill -9 $$' || rc=$?
	expect_eq "status of a SIGKILLed workload" "$rc" 137
	eng_nothing_left
}

# run -d, logs, stop (SIGTERM reaches the workload, which exits 0 well
# before the timeout), rm; the container's process is the VMM.
test_engine_vm_podman_detach_stop_rm() {
	local id pid cg t0 took
	eng_setup || return 0
	id=$(epm run -d --network none "${ENG_VM[@]}" "$ENG_IMG" \
		sh -c 'trap "echo got-term; exit 0" TERM; echo started; while :; do sleep 0.2; done')
	for _ in $(seq 300); do
		epm logs "$id" 2>/dev/null | grep -q started && break
		sleep 1
	done
	expect_eq "logs" "$(epm logs "$id" 2>&1)" started
	expect_eq "status" "$(epm inspect -f '{{.State.Status}}' "$id")" running
	pid=$(epm inspect -f '{{.State.Pid}}' "$id")
	case $(readlink "/proc/$pid/exe") in */hull-vmm) ;; *) fail "pid $pid is not the VMM" ;; esac
	cg=$(awk -F: '$1 == "0" {print $3}' "/proc/$pid/cgroup")
	expect_eq "the VMM's cgroup" "$cg" "/libpod_parent/libpod-$id"
	[ -d "/run/hull/$id" ] || fail "no state dir /run/hull/$id: $(ls /run/hull 2>&1)"
	t0=$SECONDS
	epm stop -t 60 "$id" > /dev/null
	took=$((SECONDS - t0))
	[ "$took" -lt 45 ] || fail "stop took ${took}s: SIGTERM did not reach the workload"
	expect_eq "logs after stop" "$(epm logs "$id" 2>&1 | tr '\n' ' ')" "started got-term "
	expect_eq "exit code" "$(epm inspect -f '{{.State.ExitCode}}' "$id")" 0
	eng_called kill
	epm rm "$id" > /dev/null
	eng_called delete
	[ ! -e "/proc/$pid" ] || fail "the VMM $pid still runs"
	eng_nothing_left "$cg"
}

# stdin piped through podman run -i reaches the guest (and its EOF);
# podman exec into a VM container runs in the guest (hull exec --detach
# --pid-file under conmon: the relay's status is the process's).
test_engine_vm_podman_stdin_exec() {
	local id out rc logf
	eng_setup || return 0
	out=$(printf 'line one\nline two\n' |
		epm run --rm -i --network none "${ENG_VM[@]}" "$ENG_IMG" sh -c 'wc -l; echo done')
	expect_eq "stdin" "$(echo "$out" | tr -s ' \n' ' ')" "2 done "
	id=$(epm run -d --network none "${ENG_VM[@]}" "$ENG_IMG" \
		sh -c 'trap "exit 0" TERM; echo up; while :; do sleep 0.2; done')
	for _ in $(seq 300); do
		epm logs "$id" 2>/dev/null | grep -q up && break
		sleep 1
	done
	rc=0
	out=$(epm exec "$id" echo hi 2>&1) || rc=$?
	if [ "$rc" != 0 ]; then
		logf=$(grep ' exec ' "$work/engine/rt.log" | tail -n1 | sed -n 's/.*--log \([^ ]*\).*/\1/p')
		fail "podman exec failed ($rc): $out; hull's log: $(tail -n 5 "$logf" 2>&1)"
	fi
	expect_eq "exec output" "$out" hi
	rc=0
	epm exec "$id" sh -c 'uname -r; exit 3' > "$work/pexec.out" 2>&1 || rc=$?
	expect_eq "exec exit code" "$rc" 3
	[ "$(cat "$work/pexec.out")" != "$(uname -r)" ] || fail "exec ran on the host's kernel"
	out=$(echo piped | epm exec -i "$id" cat 2>&1)
	expect_eq "exec -i stdin" "$out" piped
	eng_called exec
	epm rm -f -t 30 "$id" > /dev/null
	eng_nothing_left
}

# --memory bounds the guest's RAM (less the VMM's overhead) and --cpus 2
# gives 2 vCPUs.
test_engine_vm_podman_limits() {
	local out kb
	eng_setup || return 0
	out=$(epm run --rm --network none --memory 256m --cpus 2 "${ENG_VM[@]}" "$ENG_IMG" \
		sh -c 'nproc; grep MemTotal /proc/meminfo')
	expect_eq "vCPUs" "$(echo "$out" | sed -n 1p)" 2
	kb=$(echo "$out" | awk '/MemTotal/ {print $2}')
	# 256 MiB - 32 MiB for the VMM = 224 MiB of guest RAM.
	[ -n "$kb" ] && [ "$kb" -gt $((150 * 1024)) ] && [ "$kb" -le $((224 * 1024)) ] ||
		fail "MemTotal '$kb' kB with --memory 256m"
	eng_nothing_left
}

# A runtime configured with hull's global --vm (podman --runtime-flag vm;
# Docker's runtimeArgs): VM isolation without the annotation, and the
# annotation org.hull.isolation=container still wins over it.
test_engine_vm_podman_global_vm_flag() {
	local rel
	eng_setup || return 0
	rel=$(epm --runtime-flag vm run --rm --network none "$ENG_IMG" uname -r)
	[ -n "$rel" ] && [ "$rel" != "$(uname -r)" ] ||
		fail "global --vm: kernel '$rel' is the test host VM's: not a VM"
	grep ' create ' "$work/engine/rt.log" | grep -q -- '--vm ' ||
		fail "podman did not pass --vm: $(cut -c1-80 "$work/engine/rt.log" | tr '\n' '|')"
	rel=$(epm --runtime-flag vm run --rm --network none \
		--annotation org.hull.isolation=container "$ENG_IMG" uname -r)
	expect_eq "annotation container under --vm" "$rel" "$(uname -r)"
	eng_nothing_left
}

# containerd (its own daemon, in a network namespace of its own, state under
# $work) with the runc shim pointed at hull: ctr run --annotation
# org.hull.isolation=vm runs the workload in the guest, with its output and
# exit status, and ctr task exec into it works; the daemon is stopped by
# pid at the end.
test_engine_vm_containerd_run() {
	local d=$work/ctrd out rc
	command -v containerd >/dev/null && command -v containerd-shim-runc-v2 >/dev/null ||
		{ echo "skipped: containerd is not installed"; return 0; }
	eng_setup || return 0
	mkdir -p "$d/containerd/runc-root"
	cp "$work/engine/rootfs.tar" "$d/rootfs.tar"
	# The engines tier's OCI archive of a rootfs tar (one layer).
	(W=$d; . "$project/tests/engines/setup.sh"; make_oci_archive)
	cat > "$d/config.toml" <<-EOF2
	version = 2
	root = "$d/root"
	state = "$d/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$d/sock"
	[ttrpc]
	  address = "$d/sock.ttrpc"
	EOF2
	unshare -n containerd --config "$d/config.toml" > "$d/log" 2>&1 < /dev/null &
	# Not local: the EXIT trap runs after this function has returned.
	dpid=$!
	ectr() { timeout -k 10 300 ctr --address "$d/sock" -n hullvm "$@"; }
	ectr_stop() {
		kill "$dpid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || return 0; sleep 0.2; done
		kill -9 "$dpid" 2>/dev/null
	}
	trap ectr_stop EXIT
	for _ in $(seq 120); do ectr version > /dev/null 2>&1 && break; sleep 0.5; done
	ectr version > /dev/null || fail "containerd did not start: $(tail -n 5 "$d/log")"
	ectr image import "$d/containerd/image.tar" > /dev/null
	out=$(ectr run --rm --runc-binary "$work/engine/hull-rt" --runc-root "$d/containerd/runc-root" \
		--annotation org.hull.isolation=vm localhost/hbb:latest vm1 \
		sh -c 'echo hello-from-ctr; uname -r')
	expect_eq "first line" "$(echo "$out" | sed -n 1p)" hello-from-ctr
	rel=$(echo "$out" | sed -n 2p)
	[ -n "$rel" ] && [ "$rel" != "$(uname -r)" ] ||
		fail "guest kernel '$rel' is the test host VM's ($(uname -r)): not a VM"
	rc=0
	ectr run --rm --runc-binary "$work/engine/hull-rt" --runc-root "$d/containerd/runc-root" \
		--annotation org.hull.isolation=vm localhost/hbb:latest vm2 sh -c 'exit 3' || rc=$?
	expect_eq "exit status" "$rc" 3
	# ctr task exec: the shim's hull exec --detach --pid-file; the guest
	# runs it, its output and exit status come back.
	ectr run -d --runc-binary "$work/engine/hull-rt" --runc-root "$d/containerd/runc-root" \
		--annotation org.hull.isolation=vm localhost/hbb:latest vm3 \
		sh -c 'trap "exit 0" TERM; while :; do sleep 0.2; done' > /dev/null
	rc=0
	out=$(ectr task exec --exec-id e1 vm3 sh -c 'echo hi-exec; exit 4') || rc=$?
	expect_eq "task exec output" "$out" hi-exec
	expect_eq "task exec status" "$rc" 4
	ectr task kill -s SIGKILL vm3
	for _ in $(seq 60); do ectr task delete vm3 > /dev/null 2>&1 && break; sleep 0.5; done
	ectr container rm vm3
	grep -q "runc-root/hullvm .*exec " "$work/engine/rt.log" ||
		fail "the shim never ran hull exec: $(cut -c1-80 "$work/engine/rt.log" | tr '\n' '|')"
	expect_eq "tasks left" "$(ectr task ls -q)" ""
	expect_eq "containers left" "$(ectr container ls -q)" ""
	expect_eq "VMM processes left" "$(vmm_pids | tr '\n' ' ')" ""
	# The shim's --root is RUNC-ROOT/NAMESPACE: no container dir in it.
	expect_eq "state dirs left" "$(find "$d/containerd/runc-root" -mindepth 2 | tr '\n' ' ')" ""
	grep -q "runc-root/hullvm .*create " "$work/engine/rt.log" ||
		fail "the shim never ran hull create: $(cut -c1-80 "$work/engine/rt.log" | tr '\n' '|')"
}

# Docker (its own dockerd in a network namespace, no bridge or iptables,
# state under $work): a runtime "hull-vm" registered with runtimeArgs
# ["--vm"] (hull's global flag) boots a VM without any annotation;
# --annotation org.hull.isolation=vm on the plain "hull" runtime does too
# where dockerd has it (API 1.43, Docker 24; not Debian's 20.10), and that
# runtime without it runs a namespace container; docker exec into the VM.
test_engine_vm_docker_runtime_args() {
	local d=$work/dockerd out rc rel api id
	command -v dockerd >/dev/null && command -v docker >/dev/null ||
		{ echo "skipped: Docker is not installed"; return 0; }
	eng_setup || return 0
	mkdir -p "$d/cli"
	cat > "$d/daemon.json" <<-EOF2
	{"runtimes": {"hull": {"path": "$work/engine/hull-rt"},
	              "hull-vm": {"path": "$work/engine/hull-rt", "runtimeArgs": ["--vm"]}},
	 "exec-opts": ["native.cgroupdriver=cgroupfs"], "bridge": "none",
	 "iptables": false, "ip6tables": false,
	 "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 1024, "Soft": 1024}},
	 "storage-driver": "overlay2", "log-level": "warn"}
	EOF2
	unshare -n dockerd --config-file "$d/daemon.json" --data-root "$d/data" \
		--exec-root "$d/exec" --pidfile "$d/dockerd.pid" -H "unix://$d/sock" \
		> "$d/log" 2>&1 < /dev/null &
	# Not local: the EXIT trap runs after this function has returned.
	dpid=$!
	edk() { DOCKER_CONFIG=$d/cli timeout -k 10 300 docker -H "unix://$d/sock" "$@"; }
	edk_stop() {
		kill "$dpid" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || return 0; sleep 0.2; done
		kill -9 "$dpid" 2>/dev/null
	}
	trap edk_stop EXIT
	for _ in $(seq 180); do edk version > /dev/null 2>&1 && break; sleep 0.5; done
	edk version > /dev/null || fail "dockerd did not start: $(tail -n 5 "$d/log")"
	edk import - hbb:latest < "$work/engine/rootfs.tar" > /dev/null
	rc=0
	out=$(edk run --rm --network none --runtime hull-vm hbb:latest \
		sh -c 'echo hello-from-docker; uname -r; exit 3') || rc=$?
	expect_eq "first line" "$(echo "$out" | sed -n 1p)" hello-from-docker
	rel=$(echo "$out" | sed -n 2p)
	[ -n "$rel" ] && [ "$rel" != "$(uname -r)" ] ||
		fail "runtimeArgs --vm: kernel '$rel' is the test host VM's: not a VM"
	expect_eq "exit status" "$rc" 3
	grep ' create ' "$work/engine/rt.log" | grep -q -- '--vm ' ||
		fail "dockerd did not pass --vm: $(cut -c1-80 "$work/engine/rt.log" | tr '\n' '|')"
	# docker run --annotation needs API 1.43 (Docker 24); Debian's
	# dockerd 20.10 speaks 1.41 and has no way to pass an annotation.
	api=$(edk version -f '{{.Server.APIVersion}}')
	if [ "$(printf '%s\n1.43\n' "$api" | sort -V | head -n 1)" = 1.43 ]; then
		rel=$(edk run --rm --network none --runtime hull \
			--annotation org.hull.isolation=vm hbb:latest uname -r)
		[ -n "$rel" ] && [ "$rel" != "$(uname -r)" ] ||
			fail "--annotation: kernel '$rel' is the test host VM's: not a VM"
	fi
	expect_eq "plain runtime: a container" \
		"$(edk run --rm --network none --runtime hull hbb:latest uname -r)" "$(uname -r)"
	# docker exec into the VM: the guest runs it, with its exit status.
	id=$(edk run -d --network none --runtime hull-vm hbb:latest \
		sh -c 'trap "exit 0" TERM; while :; do sleep 0.2; done')
	rc=0
	out=$(edk exec "$id" sh -c 'echo hi-docker-exec; exit 5') || rc=$?
	expect_eq "docker exec output" "$out" hi-docker-exec
	expect_eq "docker exec status" "$rc" 5
	edk rm -f "$id" > /dev/null
	expect_eq "containers left" "$(edk ps -aq)" ""
	expect_eq "VMM processes left" "$(vmm_pids | tr '\n' ' ')" ""
}
