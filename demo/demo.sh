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

if [ -e /dev/kvm ]; then
	echo "microVM: not built yet (issue 6); this line will run 'hull run --vm'."
else
	echo "microVM: no /dev/kvm here; once the microVM lands, run it in the test host VM (tests/vmhost)."
fi
