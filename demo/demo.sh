#!/bin/sh
# The README demo: a busybox-static rootfs, a config from `hull spec`, and
# `hull run`.  Then the microVM, where /dev/kvm exists.
set -e
cd "$(dirname "$0")/.."
HULL=$(readlink -f "${HULL:-./hull}")
work=$(mktemp -d /tmp/hull-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ -e "$work/rootfs/bin/$a" ] || ln -s busybox "$work/rootfs/bin/$a"; done
(cd "$work" && "$HULL" spec)
jq '.process.args = ["sh", "-c", "echo hello from a hull container: $(hostname), pid $$, uid $(id -u); ls /"]' \
	"$work/config.json" > "$work/config.new" && mv "$work/config.new" "$work/config.json"

echo "+ hull run --bundle $work demo-$$"
"$HULL" run --bundle "$work" "demo-$$"

echo "+ hull jail --ro-host --tmpfs /tmp --memory 64m -- sh -c ..."
"$HULL" jail --ro-host --tmpfs /tmp --memory 64m --cap-drop ALL -- \
	sh -c 'echo "hello from a jailed service: pid $$, / is read-only: $(touch /x 2>&1 | grep -c Read-only)"'

# A system container: its own busybox init as PID 1, an address on the
# hull0 bridge.  All of it inside a network namespace made here, so the
# host's network is untouched; config and leases under $work.
mkdir -p "$work/rootfs/sbin" "$work/rootfs/etc"
ln -s ../bin/busybox "$work/rootfs/sbin/init"
cat > "$work/rootfs/etc/inittab" <<'EOF2'
::sysinit:/bin/echo "init: system container up"
::respawn:/bin/sleep 86400
::shutdown:/bin/echo "init: shutting down"
EOF2
cat > "$work/ct-demo.sh" <<'EOF2'
set -e
ct() { echo "+ hull ct $*"; "$HULL" --root "$work/state" ct --lib-dir "$work/lib" "$@"; }
trap 'rc=$?; set +e; ct destroy --force web1 >/dev/null 2>&1; ct destroy --force web2 >/dev/null 2>&1; exit $rc' EXIT
ip link set lo up
ct create web1 --rootfs "$work/rootfs" --hostname web1 --ip 10.88.0.10/16 --memory 64m
ct create web2 --rootfs "$work/rootfs" --hostname web2 --ip 10.88.0.11/16
ct start web1
ct start web2
ct exec web1 -- sh -c 'echo "hello from $(hostname): pid 1 is $(cat /proc/1/comm)"; ip -4 -o addr show eth0'
ct exec web1 -- ping -c1 -W3 10.88.0.11 | grep "bytes from"
ct exec web1 -- ping -c1 -W3 fd00:88::b | grep "bytes from"
ct set web1 --memory 128m
ct list
ct stop web1
ct status web1 | grep state
ct destroy --force web2
ct destroy web1
EOF2
echo "+ unshare -n sh ct-demo.sh   (system containers in a network namespace of the demo's own)"
HULL="$HULL" work="$work" unshare -n sh "$work/ct-demo.sh"

# The same bundle in a microVM: hull's own VMM boots the guest kernel
# (built once by `make guest-kernel`, cached in /var/cache/hull/kernel).
# A machine may have a /dev/kvm that runs no guest (a guest without nested
# virtualisation): then the boot is given up (after 120 s at most,
# HULL_DEMO_VM_TIMEOUT) and the demo says
# how to run it in the test host VM instead.
vmhost="tests/vmhost/vmhost.sh --share $PWD -- ./hull run --vm --bundle BUNDLE ID"
kernel=/var/cache/hull/kernel/vmlinux
if [ ! -e /dev/kvm ]; then
	echo "microVM: no /dev/kvm here; run it in the test host VM (nested KVM): $vmhost"
	exit 0
fi
if [ ! -r "$kernel" ]; then
	echo "microVM: building the guest kernel once (make guest-kernel: Debian's linux-source-6.1, several minutes)"
	make guest-kernel >/dev/null
fi
jq '.process.args = ["sh", "-c", "echo hello from a hull microVM: $(uname -r), $(nproc) vCPU"]' \
	"$work/config.json" > "$work/config.new" && mv "$work/config.new" "$work/config.json"
echo "+ hull run --vm --bundle $work demo-vm-$$"
rc=0
timeout "${HULL_DEMO_VM_TIMEOUT:-120}" "$HULL" run --vm --bundle "$work" "demo-vm-$$" 2>"$work/vm.err" || rc=$?
cat "$work/vm.err" >&2
if [ "$rc" -eq 124 ] || { [ "$rc" -ne 0 ] && grep -q "KVM" "$work/vm.err"; }; then
	"$HULL" delete --force "demo-vm-$$" >/dev/null 2>&1 || true
	echo "microVM: this /dev/kvm does not run the guest (a machine without nested virtualisation?);"
	echo "         run it in the test host VM: $vmhost"
elif [ "$rc" -ne 0 ]; then
	exit "$rc"
fi
