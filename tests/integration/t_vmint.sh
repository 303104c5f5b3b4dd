# --vm with images and hull ct, on a host without /dev/kvm (or with it
# hidden): the clear errors, and nothing left.  The boots themselves are
# in tests/vm/t_image_ct.sh.  Names contain "image" or "ct" for run.sh's
# filters.

# nokvm CMD...: CMD with /dev a fresh tmpfs (no kvm) in a private mount
# namespace, whatever this host has.
nokvm() {
	unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh "$@"
}

test_image_run_vm_no_kvm() {
	export HULL_IMAGE_STORE=$TESTROOT/store-$IDPREFIX
	local out rc
	make_layout "$B.layout" vmr:1 >/dev/null
	ht image import "$B.layout"
	set +e
	out=$(nokvm timeout 15 "$HULL" --root "$STATE" run --image vmr:1 --vm --name "${IDPREFIX}a" \
		-- true 2>&1); rc=$?
	set -e
	expect_clean_failure "run --image --vm without kvm" "$out" "$rc" \
		"run --image --vm: /dev/kvm (VM isolation needs KVM): No such file"
	[ -z "$(ls -A "$STATE")" ] || fail "left in the state root: $(ls -A "$STATE")"
	# checked before the image is unpacked or a disk made
	[ -z "$(ls -A "$HULL_IMAGE_STORE/rootfs" 2>/dev/null)" ] ||
		fail "unpacked for nothing: $(ls "$HULL_IMAGE_STORE/rootfs")"
	[ -z "$(ls -A "$HULL_IMAGE_STORE/disks" 2>/dev/null)" ] || fail "a disk made for nothing"
	# --kernel is for --vm only
	set +e
	out=$(ht run --image vmr:1 --kernel /no/kernel --name "${IDPREFIX}b" -- true 2>&1); rc=$?
	set -e
	expect_clean_failure "--kernel without --vm" "$out" "$rc" "--kernel is for VM isolation"
	[ -z "$(ls -A "$STATE")" ] || fail "left in the state root: $(ls -A "$STATE")"
	ht image rm vmr:1
	rm -rf "$HULL_IMAGE_STORE" "$B.layout"
}

# create --vm: a malformed --ip, a bad --bind (missing source, a file, a
# relative or '..' destination, too many, no virtiofsd: all checked before
# KVM), KVM needed;
# refused with nothing left (no ct dir, no lease).  A saved config's
# isolation is checked on load.
test_ct_vm_refusals() {
	local n=${IDPREFIX}v out rc args
	ct_rootfs "$B/rootfs"
	echo x > "$B/afile"
	for args in "--ip 10.88.0.400|--ip 10.88.0.400: expected an IPv4 address" \
		    "--ip fd00:88::5|--ip fd00:88::5: expected an IPv4 address" \
		    "--bind $B/no-such:/mnt|--vm: --bind: $B/no-such: No such file or directory" \
		    "--bind $B/rootfs:/a/../b|'.' and '..' are not allowed in the destination" \
		    "--bind $B/rootfs:rel|the destination must be an absolute path" \
		    "--bind $B/afile:/f|a microVM shares directories only (virtio-fs)" \
		    "--bind $B/rootfs:/1 --bind $B/rootfs:/2 --bind $B/rootfs:/3 --bind $B/rootfs:/4 --bind $B/rootfs:/5|at most 4 --bind"; do
		set +e
		out=$(ct create "$n" --rootfs "$B/rootfs" --vm ${args%|*} 2>&1); rc=$?
		set -e
		expect_clean_failure "ct create --vm ${args%|*}" "$out" "$rc" "${args#*|}"
		[ ! -e "$B/lib/ct/$n" ] || fail "ct create --vm ${args%|*}: left $B/lib/ct/$n"
		[ ! -s "$B/lib/net/leases" ] || fail "a lease was taken: $(cat "$B/lib/net/leases")"
	done
	set +e
	out=$(HULL_VIRTIOFSD=/no/virtiofsd ct create "$n" --rootfs "$B/rootfs" --vm \
		--bind "$B/rootfs:/mnt" 2>&1); rc=$?
	set -e
	expect_clean_failure "ct create --vm --bind without virtiofsd" "$out" "$rc" \
		"/no/virtiofsd: No such file or directory (virtiofsd serves host directories to a microVM: apt-get install qemu-system-common)"
	[ ! -e "$B/lib/ct/$n" ] || fail "left $B/lib/ct/$n"
	# a good --bind gets as far as KVM
	set +e
	out=$(nokvm timeout 15 "$HULL" --root "$STATE" ct --lib-dir "$B/lib" create "$n" \
		--rootfs "$B/rootfs" --vm --bind "$B/rootfs:/mnt:ro" 2>&1); rc=$?
	set -e
	expect_clean_failure "ct create --vm --bind without kvm" "$out" "$rc" \
		"ct create --vm: /dev/kvm (VM isolation needs KVM): No such file"
	[ ! -e "$B/lib/ct/$n" ] || fail "left $B/lib/ct/$n"
	set +e
	out=$(nokvm timeout 15 "$HULL" --root "$STATE" ct --lib-dir "$B/lib" create "$n" \
		--rootfs "$B/rootfs" --vm 2>&1); rc=$?
	set -e
	expect_clean_failure "ct create --vm without kvm" "$out" "$rc" \
		"ct create --vm: /dev/kvm (VM isolation needs KVM): No such file"
	[ ! -e "$B/lib/ct/$n" ] || fail "left $B/lib/ct/$n"
	# the saved isolation: "container" or "vm", nothing else
	ct create "$n" --rootfs "$B/rootfs" --ip none
	expect_eq "isolation" "$(ct status "$n" | awk '/^isolation:/ {print $2}')" container
	jq '.isolation = "kvm"' "$B/lib/ct/$n/ct.json" > "$B/ct.json"
	cp "$B/ct.json" "$B/lib/ct/$n/ct.json"
	set +e
	out=$(ct status "$n" 2>&1); rc=$?
	set -e
	expect_eq "bad isolation: status" "$rc" 1
	expect_contains "bad isolation" "$out" 'isolation: expected "container" or "vm"'
	ct destroy --force "$n"   # an unreadable config needs --force
	ct_gone "$n"
}

# The global --vm (what an engine's runtimeArgs or --runtime-flag pass,
# before the verb) makes create choose a microVM: without /dev/kvm that is
# the VM path's clear error, nothing left; the annotation
# org.hull.isolation=container wins over it, and a bad annotation is still
# refused.
test_vm_global_flag_default() {
	local out rc
	make_bundle "$B" true
	set +e
	out=$(nokvm timeout 15 "$HULL" --root "$STATE" --vm create --bundle "$B" "${IDPREFIX}g" 2>&1); rc=$?
	set -e
	expect_clean_failure "--vm create without kvm" "$out" "$rc" \
		"microVM: /dev/kvm (VM isolation needs KVM): No such file"
	# VM mode shares bind-mounted directories over virtio-fs: a missing
	# source or a '..' destination is named before KVM, nothing left
	jq_edit "$B" ".mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$B/no-such\", \"options\": [\"rbind\"]}]"
	set +e
	out=$(nokvm timeout 15 "$HULL" --root "$STATE" --vm create --bundle "$B" "${IDPREFIX}g" 2>&1); rc=$?
	set -e
	expect_clean_failure "--vm create with a missing bind source" "$out" "$rc" \
		"mounts[$(jq '.mounts | length - 1' "$B/config.json")]: $B/no-such: No such file or directory"
	mkdir -p "$B/share"
	jq_edit "$B" ".mounts[-1].source = \"$B/share\" | .mounts[-1].destination = \"/a/../b\""
	set +e
	out=$(nokvm timeout 15 "$HULL" --root "$STATE" --vm create --bundle "$B" "${IDPREFIX}g" 2>&1); rc=$?
	set -e
	expect_clean_failure "--vm create with a '..' bind destination" "$out" "$rc" \
		'destination: "/a/../b" must not contain ".."'

	state_empty
	jq_edit "$B" 'del(.mounts[-1])'
	jq_edit "$B" '.annotations = {"org.hull.isolation": "container"}'
	nokvm timeout 15 "$HULL" --root "$STATE" --vm run --bundle "$B" "${IDPREFIX}g" ||
		fail "--vm run with the annotation container: status $?"
	state_empty
	jq_edit "$B" '.annotations = {"org.hull.isolation": "vmm"}'
	set +e
	out=$(timeout 15 "$HULL" --root "$STATE" --vm create --bundle "$B" "${IDPREFIX}g" 2>&1); rc=$?
	set -e
	expect_clean_failure "--vm with a bad annotation" "$out" "$rc" \
		"org.hull.isolation is 'vmm'"
}
