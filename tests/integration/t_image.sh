# image: import an OCI layout (built here by hand from the busybox rootfs:
# tar + sha256sum), ls, inspect, unpack, then run the bundle.  Every test
# name contains "image" (run.sh image).

# blob FILE LAYOUT: move FILE into LAYOUT's blobs; prints its digest hex.
img_blob() {
	local h
	h=$(sha256sum "$1" | cut -c1-64)
	mv "$1" "$2/blobs/sha256/$h"
	echo "$h"
}

# layout_index LAYOUT NAME: LAYOUT/manifest into the blobs, and the index
# naming it NAME; prints the manifest's digest hex.
layout_index() {
	local l=$1 name=$2 mh ms
	ms=$(stat -c %s "$l/manifest"); mh=$(img_blob "$l/manifest" "$l")
	jq -n --arg m "sha256:$mh" --argjson ms "$ms" --arg n "$name" \
		'{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",
		  digest:$m,size:$ms,annotations:{"org.opencontainers.image.ref.name":$n}}]}' \
		> "$l/index.json"
	echo "$mh"
}

# make_layout LAYOUT NAME [CONFIG]: a one-layer busybox image named NAME;
# CONFIG is the image config's "config" object (default: Cmd /bin/sh).
make_layout() {
	local l=$1 name=$2 cfg=${3:-'{"Cmd":["/bin/sh"]}'} lh ls ch cs
	mkdir -p "$l/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$l/oci-layout"
	tar -C "$TESTROOT/rootfs-template" -czf "$l/layer" .
	ls=$(stat -c %s "$l/layer"); lh=$(img_blob "$l/layer" "$l")
	jq -n --argjson cfg "$cfg" '{architecture:"amd64",os:"linux",config:$cfg,
		rootfs:{type:"layers",diff_ids:[]}}' > "$l/config"
	cs=$(stat -c %s "$l/config"); ch=$(img_blob "$l/config" "$l")
	jq -n --arg c "sha256:$ch" --argjson cs "$cs" --arg l "sha256:$lh" --argjson ls "$ls" \
		'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
		  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},
		  layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$l,size:$ls}]}' \
		> "$l/manifest"
	layout_index "$l" "$name"
}

test_image_import_unpack_run() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local mh out
	mh=$(make_layout "$B.layout" bb:1)
	ht image import "$B.layout"
	out=$(ht image ls)
	expect_contains "ls" "$out" "bb:1"
	expect_contains "ls" "$out" "sha256:$mh"
	expect_eq "inspect digest" "$(ht image inspect bb:1 | jq -r .Digest)" "sha256:$mh"
	expect_eq "inspect config" "$(ht image inspect bb:1 | jq -r '.Config.config.Cmd[0]')" /bin/sh
	ht image unpack bb:1 "$B/rootfs"
	[ -x "$B/rootfs/bin/busybox" ] || fail "no busybox in the unpacked rootfs"
	(cd "$B" && "$HULL" spec)
	set_args "$B" sh -c 'echo from-image; cat /etc/passwd'
	out=$(ht run --bundle "$B" "${IDPREFIX}a")
	expect_contains "run output" "$out" "from-image"
	expect_contains "run output" "$out" "root:x:0:0"
	ht image rm bb:1
	expect_eq "ls after rm" "$(ht image ls | wc -l)" 1
	expect_eq "blobs after rm" "$(ls "$HULL_IMAGE_STORE/blobs/sha256" | wc -l)" 0
	rm -rf "$HULL_IMAGE_STORE" "$B.layout"
}

test_image_archive_and_name() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	make_layout "$B.layout" ignored >/dev/null
	tar -C "$B.layout" -cf "$B.tar" .
	ht image import --name arch:2 "$B.tar"
	expect_contains "ls" "$(ht image ls)" "arch:2"
	expect_contains "--store before the subcommand" \
		"$(HULL_IMAGE_STORE=/nonexistent ht image --store "$HULL_IMAGE_STORE" ls)" "arch:2"
	ht image unpack arch:2 "$B/rootfs"
	[ -x "$B/rootfs/bin/busybox" ] || fail "no busybox in the unpacked rootfs"
	local out rc
	set +e; out=$(ht image unpack arch:2 "$B/rootfs" 2>&1); rc=$?; set -e
	expect_clean_failure "unpack into an existing dir" "$out" "$rc" "already exists"
	set +e; out=$(ht image inspect nosuch 2>&1); rc=$?; set -e
	expect_clean_failure "inspect of an unknown image" "$out" "$rc" 'image "nosuch" does not exist'
	rm -rf "$HULL_IMAGE_STORE" "$B.layout" "$B.tar"
}

test_image_bad_digest_adds_nothing() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local mh lh out rc
	mh=$(make_layout "$B.layout" bad:1)
	lh=$(jq -r '.layers[0].digest' "$B.layout/blobs/sha256/$mh" | cut -c8-)
	printf 'x' | dd of="$B.layout/blobs/sha256/$lh" bs=1 seek=100 conv=notrunc 2>/dev/null
	set +e; out=$(ht image import "$B.layout" 2>&1); rc=$?; set -e
	expect_clean_failure "corrupt layer" "$out" "$rc" "sha256:$lh"
	expect_contains "corrupt layer" "$out" "digest mismatch"
	expect_eq "blobs after a failed import" "$(ls "$HULL_IMAGE_STORE/blobs/sha256" | wc -l)" 0
	expect_eq "ls after a failed import" "$(ht image ls | wc -l)" 1
	rm -rf "$HULL_IMAGE_STORE" "$B.layout"
}

test_image_bundle_run() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local out rc cfg
	cfg='{"Entrypoint":["/bin/sh","-c"],"Cmd":["echo $GREETING from $(pwd) as $(id -u)"],
	      "Env":["GREETING=hi"],"WorkingDir":"/tmp","User":"1000:1000"}'
	make_layout "$B.layout" bun:1 "$cfg" >/dev/null
	ht image import "$B.layout"
	ht image bundle bun:1 "$B.bun"
	[ -x "$B.bun/rootfs/bin/busybox" ] || fail "no busybox in the bundle's rootfs"
	expect_eq "bundle env" "$(jq -c .process.env "$B.bun/config.json")" \
		'["GREETING=hi","PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
	expect_eq "bundle namespaces as spec's" "$(jq -c .linux.namespaces "$B.bun/config.json")" \
		"$(cd "$B.layout" && "$HULL" spec && jq -c .linux.namespaces config.json)"
	out=$(ht run --bundle "$B.bun" "${IDPREFIX}a")
	expect_eq "bundle run output" "$out" "hi from /tmp as 1000"
	# An empty DIR is fine too; a user name is looked up in the image.
	rm -rf "$B.bun"; mkdir "$B.bun"
	make_layout "$B.l2" named:1 '{"Cmd":["id"],"User":"root:root"}' >/dev/null
	ht image import "$B.l2"
	ht image bundle named:1 "$B.bun"
	expect_eq "bundle user by name" "$(jq -c .process.user "$B.bun/config.json")" '{"uid":0,"gid":0}'
	rm -rf "$B.bun" "$B.l2"
	set +e; out=$(ht image bundle nosuch:1 "$B.bun" 2>&1); rc=$?; set -e
	expect_clean_failure "bundle of a bad ref" "$out" "$rc" 'image "nosuch:1" does not exist'
	[ ! -e "$B.bun" ] || fail "a failed bundle created $B.bun"
	make_layout "$B.l3" nouser:1 '{"Cmd":["id"],"User":"nobody"}' >/dev/null
	ht image import "$B.l3"
	set +e; out=$(ht image bundle nouser:1 "$B.bun" 2>&1); rc=$?; set -e
	expect_clean_failure "bundle with an unknown user" "$out" "$rc" 'no user "nobody"'
	[ ! -e "$B.bun" ] || fail "a failed bundle left $B.bun"
	rm -rf "$HULL_IMAGE_STORE" "$B.layout" "$B.l3"
}

# make_docker_archive OUT.tar TAG [hard]: a docker-archive as
# `docker save` writes it, by hand: <id>.json config, <id>/layer.tar
# (plain tar), manifest.json; two layers, the second adds /etc/hello.
# TAG "" gives no RepoTags.
make_docker_archive() {
	local out=$1 tag=$2 hard=${3:-} d=$1.d ch l1 l2
	mkdir -p "$d/l2/etc"
	echo hello-from-layer2 > "$d/l2/etc/hello"
	tar -C "$TESTROOT/rootfs-template" --mtime=@0 --sort=name -cf "$d/layer1.tar" .
	tar -C "$d/l2" --mtime=@0 --sort=name -cf "$d/layer2.tar" .
	rm -rf "$d/l2"
	l1=$(sha256sum "$d/layer1.tar" | cut -c1-64); l2=$(sha256sum "$d/layer2.tar" | cut -c1-64)
	# As docker and skopeo do, layers are reached through links: a symlink
	# to a later entry, and (tar --sort=name puts DIR/ before DIR.tar) a
	# hardlink to an earlier one (used with "hard": skopeo reads a
	# hardlinked layer as empty).
	mkdir "$d/$l1" "$d/$l2"
	mv "$d/layer1.tar" "$d/$l1.tar"; ln -s "../$l1.tar" "$d/$l1/layer.tar"
	mv "$d/layer2.tar" "$d/$l2.tar"; ln "$d/$l2.tar" "$d/$l2/layer.tar"
	jq -n --arg a "sha256:$l1" --arg b "sha256:$l2" '{architecture:"amd64",os:"linux",
		config:{Cmd:["/bin/sh","-c","cat /etc/hello"]},rootfs:{type:"layers",diff_ids:[$a,$b]}}' \
		> "$d/config"
	ch=$(sha256sum "$d/config" | cut -c1-64); mv "$d/config" "$d/$ch.json"
	jq -n --arg c "$ch.json" --arg a "$l1/layer.tar" \
		--arg b "$([ -n "$hard" ] && echo "$l2.tar" || echo "$l2/layer.tar")" --arg t "$tag" \
		'[{Config:$c,RepoTags:(if $t == "" then null else [$t] end),Layers:[$a,$b]}]' \
		> "$d/manifest.json"
	tar -C "$d" --sort=name -cf "$out" .
	rm -rf "$d"
}

test_image_docker_archive() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local out rc
	make_docker_archive "$B.dk.tar" dk:1 hard
	ht image import "$B.dk.tar"
	expect_contains "ls" "$(ht image ls)" "dk:1"
	expect_eq "manifest made" "$(ht image inspect dk:1 | jq -r '.Manifest.layers | length')" 2
	expect_eq "config kept" "$(ht image inspect dk:1 | jq -c .Config.config.Cmd)" \
		'["/bin/sh","-c","cat /etc/hello"]'
	ht image unpack dk:1 "$B/rootfs"
	expect_eq "second layer applied" "$(cat "$B/rootfs/etc/hello")" hello-from-layer2
	[ -x "$B/rootfs/bin/busybox" ] || fail "no busybox from the first layer"
	# No RepoTags: --name is needed, and a failure adds nothing.
	make_docker_archive "$B.dk2.tar" ""
	set +e; out=$(ht image import "$B.dk2.tar" 2>&1); rc=$?; set -e
	expect_clean_failure "no RepoTags" "$out" "$rc" "pass --name"
	ht image import --name dk:2 "$B.dk2.tar"
	expect_eq "same blobs shared" "$(ht image inspect dk:2 | jq -r .Digest)" \
		"$(ht image inspect dk:1 | jq -r .Digest)"
	# skopeo reads the same archive as we do (when it is installed)
	if command -v skopeo >/dev/null; then
		make_docker_archive "$B.dk3.tar" dk:3
		skopeo copy -q docker-archive:"$B.dk3.tar" oci:"$B.sk:sk:1" >/dev/null
		ht image import "$B.sk"
		expect_eq "skopeo's diff_ids are ours" \
			"$(ht image inspect sk:1 | jq -c .Config.rootfs.diff_ids)" \
			"$(ht image inspect dk:1 | jq -c '[.Manifest.layers[].digest]')"
		skopeo copy -q oci:"$B.sk:sk:1" docker-archive:"$B.sk.tar:sk:2" >/dev/null
		ht image import "$B.sk.tar"
		ht image unpack docker.io/library/sk:2 "$B/rootfs2"
		expect_eq "skopeo's docker-archive" "$(cat "$B/rootfs2/etc/hello")" hello-from-layer2
	else
		echo "skipped: skopeo is not installed (round trip through skopeo)"
	fi
	rm -rf "$HULL_IMAGE_STORE" "$B".dk*.tar "$B.sk" "$B.sk.tar"
}

test_image_run_image() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local out rc mh lower ino
	mh=$(make_layout "$B.layout" run:1 \
		'{"Cmd":["/bin/sh","-c","echo from-image-cmd $GREETING"],"Env":["GREETING=hi"]}')
	ht image import "$B.layout"
	out=$(ht run --image run:1 --name "${IDPREFIX}a")
	expect_eq "image's Cmd" "$out" "from-image-cmd hi"
	lower=$HULL_IMAGE_STORE/rootfs/$mh
	[ -x "$lower/bin/busybox" ] || fail "not unpacked into the store at $lower"
	ino=$(stat -c %i "$lower/bin/busybox")
	# CMD replaces Cmd; writes go to the container's own upper layer.
	set +e
	out=$(ht run --image run:1 --name "${IDPREFIX}b" -- sh -c \
		'echo written > /etc/new; cat /etc/new; rm /bin/cat; exit 3' 2>&1); rc=$?
	set -e
	expect_eq "exit status" "$rc" 3
	expect_eq "CMD output" "$out" "written"
	[ ! -e "$lower/etc/new" ] && [ -e "$lower/bin/cat" ] || fail "the shared image was written"
	expect_eq "unpacked once" "$(stat -c %i "$lower/bin/busybox")" "$ino"
	expect_eq "one unpacked tree" "$(ls "$HULL_IMAGE_STORE/rootfs" | grep -vc lock)" 1
	[ -z "$(ls -A "$STATE")" ] || fail "left in the state root: $(ls -A "$STATE")"
	# Removing the image while a container runs keeps its tree until then.
	ht run --image run:1 --name "${IDPREFIX}c" -- sleep 3 &
	wait_for 50 test -d "$STATE/${IDPREFIX}c" || fail "the container did not start"
	set +e; out=$(ht run --image run:1 --name "${IDPREFIX}c" -- true 2>&1); rc=$?; set -e
	expect_eq "same name twice: status" "$rc" 1
	expect_eq "same name twice" "$out" "hull: container \"${IDPREFIX}c\" already exists"
	ht image rm run:1
	[ -x "$lower/bin/busybox" ] || fail "removed under a running container"
	wait
	ht image import "$B.layout"   # the next garbage collection takes it
	ht image rm run:1
	[ ! -e "$lower" ] || fail "the unpacked tree outlived its image"
	# A bundle left by a killed hull (unlocked, no container) is cleaned.
	ht image import "$B.layout"
	mkdir -p "$STATE/.image-${IDPREFIX}e/upper/etc" "$STATE/.image-${IDPREFIX}e/work"
	echo stale > "$STATE/.image-${IDPREFIX}e/upper/etc/stale"
	out=$(ht run --image run:1 --name "${IDPREFIX}e" -- sh -c 'cat /etc/stale 2>&1 || echo fresh')
	expect_contains "stale bundle replaced" "$out" "fresh"
	[ -z "$(ls -A "$STATE")" ] || fail "left in the state root: $(ls -A "$STATE")"
	ht image rm run:1
	set +e; out=$(ht run --image nosuch:1 --name "${IDPREFIX}d" 2>&1); rc=$?; set -e
	expect_clean_failure "unknown image" "$out" "$rc" 'image "nosuch:1" does not exist'
	[ -z "$(ls -A "$STATE")" ] || fail "a failed run left: $(ls -A "$STATE")"
	rm -rf "$HULL_IMAGE_STORE" "$B.layout"
}

# layout_of LAYOUT NAME TAR...: an image whose layers are these tars (moved
# into the layout, media type plain tar), config Cmd /bin/sh.
layout_of() {
	local l=$1 name=$2 layers='[]' h s ch cs
	shift 2
	mkdir -p "$l/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$l/oci-layout"
	for t in "$@"; do
		s=$(stat -c %s "$t"); h=$(img_blob "$t" "$l")
		layers=$(jq -c --arg d "sha256:$h" --argjson s "$s" \
			'. + [{mediaType:"application/vnd.oci.image.layer.v1.tar",digest:$d,size:$s}]' <<<"$layers")
	done
	echo '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]}}' > "$l/config"
	cs=$(stat -c %s "$l/config"); ch=$(img_blob "$l/config" "$l")
	jq -n --arg c "sha256:$ch" --argjson cs "$cs" --argjson ls "$layers" \
		'{schemaVersion:2,config:{mediaType:"application/vnd.oci.image.config.v1+json",
		  digest:$c,size:$cs},layers:$ls}' > "$l/manifest"
	layout_index "$l" "$name"
}

# hostile_unpack REF NEEDLE: unpack, bundle and run --image of REF all fail
# with one clear line naming NEEDLE, and leave no directory and nothing in
# the store's rootfs/.
hostile_unpack() {
	local ref=$1 needle=$2 out rc
	set +e; out=$(ht image unpack "$ref" "$B.out" 2>&1); rc=$?; set -e
	expect_clean_failure "unpack $ref" "$out" "$rc" "$needle"
	set +e; out=$(ht image bundle "$ref" "$B.bun" 2>&1); rc=$?; set -e
	expect_clean_failure "bundle $ref" "$out" "$rc" "$needle"
	set +e; out=$(ht run --image "$ref" --name "${IDPREFIX}h" 2>&1); rc=$?; set -e
	expect_clean_failure "run --image $ref" "$out" "$rc" "$needle"
	[ ! -e "$B.out" ] && [ ! -e "$B.bun" ] || fail "$ref: a failed unpack left a directory"
	[ -z "$(ls -A "$B".out.tmp-* "$B".bun 2>/dev/null)" ] || fail "$ref: left a temporary dir"
	[ -z "$(ls -A "$HULL_IMAGE_STORE/rootfs" 2>/dev/null)" ] ||
		fail "$ref: left in the store: $(ls -A "$HULL_IMAGE_STORE/rootfs")"
	[ -z "$(ls -A "$STATE")" ] || fail "$ref: left in the state root: $(ls -A "$STATE")"
}

test_image_hostile_layers() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local s=$B.src out rc victim=$TESTROOT/victim-$IDPREFIX outside=$TESTROOT/outside-$IDPREFIX
	mkdir -p "$s" "$outside"; echo x > "$s/f"; ln "$s/f" "$s/g"; echo secret > "$victim"
	# ../ in a name (GNU tar keeps it with -P)
	tar -C "$s" -P --transform "s,^f\$,../../escape-$IDPREFIX," -cf "$B.t1" f
	layout_of "$B.l1" dotdot:1 "$B.t1" >/dev/null
	# a hardlink to ../victim, and one to the victim's absolute path
	tar -C "$s" -P --transform "s,^f\$,../victim-$IDPREFIX,RSh" -cf "$B.t2" f g
	layout_of "$B.l2" hardlink:1 "$B.t2" >/dev/null
	tar -C "$s" -P --transform "s,^f\$,$victim,RSh" -cf "$B.t3" f g
	layout_of "$B.l3" hardabs:1 "$B.t3" >/dev/null
	# an absolute symlink to a host directory, then a file under it
	ln -s "$outside" "$s/abs"; mkdir "$s/l2"; mkdir "$s/l2/abs"; echo p > "$s/l2/abs/pwned"
	tar -C "$s" -cf "$B.t4" abs; tar -C "$s/l2" -cf "$B.t5" abs/pwned
	layout_of "$B.l4" abslink:1 "$B.t4" "$B.t5" >/dev/null
	# a tar cut inside a file's data (its digest is of the cut bytes)
	head -c 100000 /bin/busybox > "$s/big"; tar -C "$s" -cf "$B.t6" big
	head -c 20000 "$B.t6" > "$B.t6c"; rm "$B.t6"
	layout_of "$B.l6" truncated:1 "$B.t6c" >/dev/null
	for l in l1 l2 l3 l4 l6; do ht image import "$B.$l"; done
	hostile_unpack dotdot:1 '".." is not allowed'
	hostile_unpack hardlink:1 '".." is not allowed'
	hostile_unpack hardabs:1 'hardlink'
	hostile_unpack abslink:1 'abs/pwned'
	hostile_unpack truncated:1 'layers[0]'
	[ ! -e "$TESTROOT/escape-$IDPREFIX" ] && [ ! -e "$(dirname "$TESTROOT")/escape-$IDPREFIX" ] ||
		fail "a ../ entry was written outside"
	expect_eq "victim's links" "$(stat -c %h "$victim")" 1
	[ -z "$(ls -A "$outside")" ] || fail "written through an absolute symlink: $(ls "$outside")"
	rm -rf "$HULL_IMAGE_STORE" "$s" "$B".t* "$B".l* "$victim" "$outside"
}

test_image_hostile_imports() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local out rc mh
	# a missing manifest blob
	mh=$(make_layout "$B.l1" nomanifest:1)
	rm "$B.l1/blobs/sha256/$mh"
	set +e; out=$(ht image import "$B.l1" 2>&1); rc=$?; set -e
	expect_clean_failure "missing manifest" "$out" "$rc" "sha256:$mh is missing"
	# a docker-archive whose manifest.json points outside the archive
	make_docker_archive "$B.dk.tar" dk:1
	mkdir "$B.dk"; tar -C "$B.dk" -xf "$B.dk.tar"
	jq '.[0].Layers[0] = "../../../../etc/passwd"' "$B.dk/manifest.json" > "$B.m"
	mv "$B.m" "$B.dk/manifest.json"; tar -C "$B.dk" -cf "$B.dk.tar" .
	set +e; out=$(ht image import "$B.dk.tar" 2>&1); rc=$?; set -e
	expect_clean_failure "docker-archive path outside" "$out" "$rc" "points outside the archive"
	# a truncated archive
	make_docker_archive "$B.dk2.tar" dk:2
	head -c $(($(stat -c %s "$B.dk2.tar") / 2)) "$B.dk2.tar" > "$B.cut.tar"
	set +e; out=$(ht image import "$B.cut.tar" 2>&1); rc=$?; set -e
	expect_clean_failure "truncated archive" "$out" "$rc" "import"
	expect_eq "names after failed imports" "$(ht image ls | wc -l)" 1
	expect_eq "blobs after failed imports" "$(ls "$HULL_IMAGE_STORE/blobs/sha256" | wc -l)" 0
	expect_eq "staging after failed imports" "$(ls -A "$HULL_IMAGE_STORE/tmp" | wc -l)" 0
	rm -rf "$HULL_IMAGE_STORE" "$B".l1 "$B".dk* "$B.cut.tar"
}

test_image_pull_offline() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local out rc
	make_layout "$B.layout" src:1 '{"Cmd":["/bin/sh","-c","echo pulled"]}' >/dev/null
	# skopeo missing: one clear line, nothing added
	set +e; out=$(env PATH=/nonexistent "$HULL" --root "$STATE" image pull \
		--name p:0 "oci:$B.layout:src:1" 2>&1); rc=$?; set -e
	expect_clean_failure "pull without skopeo" "$out" "$rc" "needs skopeo, which is not installed"
	set +e; out=$(ht image pull "oci:$B.layout:src:1" 2>&1); rc=$?; set -e
	expect_clean_failure "pull of a transport without --name" "$out" "$rc" "pass --name"
	if ! command -v skopeo >/dev/null; then
		echo "skipped: skopeo is not installed (pull from oci:, dir:, docker-archive:)"
		rm -rf "$HULL_IMAGE_STORE" "$B.layout"
		return 0
	fi
	ht image pull --name p:1 "oci:$B.layout:src:1"
	out=$(ht run --image p:1 --name "${IDPREFIX}a")
	expect_eq "pulled from oci:" "$out" "pulled"
	skopeo copy -q "oci:$B.layout:src:1" "dir:$B.dir"
	ht image pull --name p:2 "dir:$B.dir"
	make_docker_archive "$B.dk.tar" dk:1
	ht image pull --name p:3 "docker-archive:$B.dk.tar"
	ht image unpack p:3 "$B/rootfs"
	expect_eq "pulled from docker-archive:" "$(cat "$B/rootfs/etc/hello")" hello-from-layer2
	expect_contains "ls" "$(ht image ls)" "p:2"
	# skopeo's own error, and nothing left behind
	set +e; out=$(ht image pull --name p:4 "oci:$B.nosuch:x" 2>&1); rc=$?; set -e
	expect_clean_failure "pull of a missing layout" "$out" "$rc" "skopeo copy oci:$B.nosuch:x failed"
	[ -z "$(ls -d /var/tmp/hull-pull-* 2>/dev/null)" ] || fail "left: $(ls -d /var/tmp/hull-pull-*)"
	rm -rf "$HULL_IMAGE_STORE" "$B.layout" "$B.dir" "$B.dk.tar"
}

test_image_vm_disk() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local out rc disk ino
	if ! command -v mkfs.erofs >/dev/null; then
		echo "skipped: mkfs.erofs (erofs-utils) is not installed"
		return 0
	fi
	make_layout "$B.layout" disk:1 >/dev/null
	ht image import "$B.layout"
	disk=$(ht image disk disk:1)
	[ -f "$disk" ] || fail "no disk at $disk"
	ino=$(stat -c %i "$disk")
	expect_eq "same disk" "$(ht image disk disk:1)" "$disk"
	expect_eq "not rebuilt" "$(stat -c %i "$disk")" "$ino"
	# the disk holds exactly the unpacked image
	ht image unpack disk:1 "$B/rootfs"
	fsck.erofs --extract="$B.x" "$disk" >/dev/null
	diff -r --no-dereference "$B/rootfs" "$B.x" || fail "the disk differs from the unpacked image"
	expect_contains "dump.erofs" "$(dump.erofs --path=/bin/busybox "$disk")" "File : /bin/busybox"
	set +e; out=$(env PATH=/nonexistent "$HULL" image disk disk:1 2>&1); rc=$?; set -e
	expect_eq "cached disk needs no mkfs" "$rc" 0
	ht image rm disk:1
	[ ! -e "$disk" ] || fail "the disk outlived its image"
	ht image import "$B.layout"
	set +e; out=$(env PATH=/nonexistent "$HULL" image disk disk:1 2>&1); rc=$?; set -e
	expect_clean_failure "no mkfs.erofs" "$out" "$rc" "needs mkfs.erofs"
	[ -z "$(ls -A "$HULL_IMAGE_STORE/disks")" ] || fail "left: $(ls "$HULL_IMAGE_STORE/disks")"
	rm -rf "$HULL_IMAGE_STORE" "$B.layout" "$B.x"
}

# hull dlopen()s libarchive and libcrypto only for image operations
# (runtime/lazylib.c): the binary does not need them, lifecycle verbs work
# without them, and an image verb that cannot load one fails naming it and
# its package, with nothing made.
test_image_without_libraries() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local out rc needed
	needed=$(objdump -p "$HULL" | awk '$1 == "NEEDED" {print $2}')
	case $needed in *libarchive*|*libcrypto*|*libxml2*|*libicu*)
		fail "hull links what it should dlopen: $(echo $needed)";; esac
	make_layout "$B.layout" lazy:1 >/dev/null
	set +e; out=$(HULL_LIBARCHIVE=/nonexistent/libarchive.so.13 ht image import "$B.layout" 2>&1)
	rc=$?; set -e
	expect_clean_failure "import without libarchive" "$out" "$rc" "(install libarchive13)"
	expect_contains "import without libarchive" "$out" "/nonexistent/libarchive.so.13"
	expect_eq "store tmp after it" "$(ls -A "$HULL_IMAGE_STORE/tmp" | wc -l)" 0
	expect_eq "ls after it" "$(ht image ls | wc -l)" 1
	ht image import "$B.layout"
	set +e; out=$(HULL_LIBCRYPTO=/nonexistent/libcrypto.so.3 ht image bundle lazy:1 "$B.bun" 2>&1)
	rc=$?; set -e
	expect_clean_failure "bundle without libcrypto" "$out" "$rc" "(install libssl3)"
	[ ! -e "$B.bun" ] || fail "a bundle without libcrypto created $B.bun"
	set +e; out=$(HULL_LIBARCHIVE=/nonexistent.so ht image unpack lazy:1 "$B/rootfs" 2>&1)
	rc=$?; set -e
	expect_clean_failure "unpack without libarchive" "$out" "$rc" "(install libarchive13)"
	[ ! -e "$B/rootfs" ] || fail "an unpack without libarchive created $B/rootfs"
	HULL_LIBARCHIVE=/nonexistent.so HULL_LIBCRYPTO=/nonexistent.so ht image unpack lazy:1 \
		"$B/rootfs" 2>/dev/null && fail "unpack worked without the libraries"
	HULL_LIBCRYPTO=/nonexistent.so ht image unpack lazy:1 "$B/rootfs" 2>/dev/null &&
		fail "unpack worked without libcrypto"
	ht image unpack lazy:1 "$B/rootfs"
	# The lifecycle never needs them.
	(cd "$B" && HULL_LIBARCHIVE=/nonexistent.so HULL_LIBCRYPTO=/nonexistent.so "$HULL" spec)
	set_args "$B" true
	HULL_LIBARCHIVE=/nonexistent.so HULL_LIBCRYPTO=/nonexistent.so ht run --bundle "$B" "${IDPREFIX}a"
	rm -rf "$HULL_IMAGE_STORE" "$B.layout"
}
