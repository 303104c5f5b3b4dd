#!/bin/bash
# The whole test suite: builds if needed, runs every tier, and ends with
# one "N passed, N failed" line.  Exit status is non-zero on any failure.
# HULL_BUILD=DIR builds out of tree in DIR (default: in the source tree).
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${HULL_BUILD:-$src}
mkdir -p "$build"
cd "$build" || exit 1

if [ ! -f Makefile ]; then
	if [ ! -x "$src/configure" ]; then
		(cd "$src" && autoreconf -fi) || exit 1
	fi
	"$src/configure" -q || exit 1
fi
make -j"$(nproc)" all >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
make -j"$(nproc)" check TESTS= >/dev/null || { echo "test build failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0

echo "== unit tier (Criterion)"
for t in tests/unit/test_*; do
	[ -x "$t" ] && [ "${t%.c}" = "$t" ] && [ "${t%.o}" = "$t" ] || continue
	out=$("$t" --jobs 1 --verbose 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
	p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(printf '%s' "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	if [ -z "$p" ]; then
		printf '%s\n' "$out" | tail -n 20
		echo "$t: no Criterion summary (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	if [ "$rc" -ne 0 ] || [ "${f:-0}" -ne 0 ] || [ "${c:-0}" -ne 0 ]; then
		printf '%s\n' "$out" | grep -E '\[(FAIL|----)\]|CRASH|Assertion' | head -n 40
	fi
	# a test that cannot run here says so
	printf '%s\n' "$out" | grep -E '\[SKIP\]' | sed 's/^/    /'
	echo "$t: $line"
	passed=$((passed + p)); failed=$((failed + ${f:-0} + ${c:-0}))
	[ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && [ "${c:-0}" -eq 0 ] && failed=$((failed + 1))
done

# tier_result NAME LOG RC: add a shell tier's "N passed, N failed" line.
tier_result() {
	local line p f
	line=$(tail -n 1 "$2")
	p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
	[ "$3" -ne 0 ] && [ "${f:-1}" -eq 0 ] && failed=$((failed + 1))
	[ -n "$p" ] || echo "$1: no summary line (exit $3)"
}

echo "== fuzz smoke (libFuzzer: virtqueues, virtio devices; 10 s each)"
log=$(mktemp /tmp/hull-fuzz.XXXXXX)
sh "$src/fuzz/smoke.sh" 10 2>&1 | tee "$log"
tier_result "fuzz smoke" "$log" "${PIPESTATUS[0]}"
rm -f "$log"

echo "== integration tier (root, busybox bundles)"
if [ "$(id -u)" -ne 0 ]; then
	echo "integration: skipped: needs root"
	skipped=$((skipped + 1))
else
	log=$(mktemp /tmp/hull-integration.XXXXXX)
	HULL="$build/hull" bash "$src/tests/integration/run.sh" 2>&1 | tee "$log"
	tier_result integration "$log" "${PIPESTATUS[0]}"
	rm -f "$log"
fi

echo "== conformance tier (OCI runtime-spec; crun and runc shown, not counted)"
if [ "$(id -u)" -ne 0 ]; then
	echo "conformance: skipped: needs root"
	skipped=$((skipped + 1))
else
	log=$(mktemp /tmp/hull-conformance.XXXXXX)
	# Runs hull, crun and runc through the same tests; its last line
	# counts hull's results only.
	HULL="$build/hull" bash "$src/tests/conformance/run.sh" hull crun runc 2>&1 | tee "$log"
	tier_result conformance "$log" "${PIPESTATUS[0]}"
	rm -f "$log"
fi

echo "== cgroup v2 tier (test host VM, pure cgroup v2)"
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "cgroup v2: skipped: qemu-system-x86_64 is not installed (tests/vmhost/deps.sh)"
elif [ "$(id -u)" -ne 0 ]; then
	echo "cgroup v2: skipped: needs root"
else
	log=$(mktemp /tmp/hull-vmhost.XXXXXX)
	bash "$src/tests/vmhost/selftest.sh" 2>&1 | tee "$log"
	tier_result "vmhost selftest" "$log" "${PIPESTATUS[0]}"
	# The unit tests of cgroups/ and the cgroup-facing integration tests,
	# on a host whose only cgroup mount is a fresh cgroup2.
	"$src/tests/vmhost/vmhost.sh" --cgroup2 --share "$build" --timeout 1500 -- \
		sh -c "cd '$build' && ./tests/unit/test_cgroup --jobs 1 --verbose 2>&1 | grep -E '^\[(FAIL|SKIP)|Synthesis|Assertion' " \
		2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep 'Synthesis:' "$log" | tail -n 1)
	p=$(printf '%s' "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(printf '%s' "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1} + ${c:-0}))
	[ "$rc" -ne 0 ] && [ "${f:-1}" -eq 0 ] && failed=$((failed + 1))
	"$src/tests/vmhost/vmhost.sh" --cgroup2 --share "$build" --timeout 1500 -- \
		env HULL="$build/hull" bash tests/integration/run.sh \
		'update|test_ps|kill_all|create_start_delete|cgroup_mount|killed_during_create|delete_running|test_cgroups' \
		2>&1 | tee "$log"
	tier_result "cgroup v2 integration" "$log" "${PIPESTATUS[0]}"
	# hull ct and its networking (the VM loads veth and bridge), and exec
	# into a container made by a hull in a chroot (as this VM runs it):
	# 1-3 minutes a test under TCG, hence a run of their own, and only the
	# tests whose outcome depends on cgroup v2 or on this VM (the rest of
	# them run on this host above).
	"$src/tests/vmhost/vmhost.sh" --cgroup2 --share "$build" --timeout 1800 -- \
		env HULL="$build/hull" TEST_TIMEOUT=300 bash tests/integration/run.sh \
		'test_ct_lifecycle|test_ct_two_containers_ping|test_ct_set_live|test_ct_state_from_cgroup|test_net_jail_veth$|test_exec_from_chroot' \
		2>&1 | tee "$log"
	tier_result "cgroup v2 ct and net" "$log" "${PIPESTATUS[0]}"
	rm -f "$log"
fi

# In the test host VM: a /dev/kvm on the machine itself may not run guests
# (seen here: KVM_RUN never returns); HULL_VM_DIRECT=1 trusts it.
echo "== vm tier's batch and retry rules (a fake test host VM)"
log=$(mktemp /tmp/hull-vm.XXXXXX)
bash "$src/tests/vm/tier_check.sh" 2>&1 | tee "$log"
tier_result "vm tier rules" "$log" "${PIPESTATUS[0]}"
rm -f "$log"
echo "== vm tier (microVMs, in the test host VM unless HULL_VM_DIRECT=1)"
kernel=${HULL_VM_KERNEL:-/var/cache/hull/kernel/vmlinux}
# The guest kernel: built once (long), then cached by its config's hash.
if [ ! -r "$kernel" ] && [ -z "${HULL_VM_KERNEL:-}" ] && [ -r /usr/src/linux-source-6.1.tar.xz ]; then
	echo "vm: building the guest kernel (make guest-kernel; cached afterwards)"
	make guest-kernel >/dev/null 2>&1 || echo "vm: make guest-kernel failed"
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "vm: skipped: needs root"
elif [ ! -r "$kernel" ]; then
	echo "vm: skipped: no guest kernel at $kernel (make guest-kernel)"
elif [ "${HULL_VM_DIRECT:-0}" = 1 ] && [ -e /dev/kvm ]; then
	log=$(mktemp /tmp/hull-vm.XXXXXX)
	HULL="$build/hull" HULL_VM_KERNEL="$kernel" bash "$src/tests/vm/run.sh" 2>&1 | tee "$log"
	tier_result vm "$log" "${PIPESTATUS[0]}"
	rm -f "$log"
elif ! command -v qemu-system-x86_64 >/dev/null; then
	echo "vm: skipped: qemu-system-x86_64 is not installed (tests/vmhost/deps.sh)"
else
	log=$(mktemp /tmp/hull-vm.XXXXXX)
	# Batches, each in its own test host VM boot, retried once on a hang.
	HULL="$build/hull" HULL_VM_KERNEL="$kernel" bash "$src/tests/vm/tier.sh" \
		--share "$build" 2>&1 | tee "$log"
	tier_result vm "$log" "${PIPESTATUS[0]}"
	rm -f "$log"
fi
echo "== fuzz smoke: layer extractor (30 s)"
if bash "$src/fuzz/smoke_unpack.sh" 30; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "== engines tier (podman, Docker, containerd on hull; tests/engines)"
if [ "$(id -u)" -ne 0 ]; then
	echo "engines: skipped: needs root"
elif ! command -v podman >/dev/null && ! command -v dockerd >/dev/null && ! command -v containerd >/dev/null; then
	echo "engines: skipped: no engine installed (podman, docker.io, containerd: .ci/deps)"
else
	log=$(mktemp /tmp/hull-engines.XXXXXX)
	HULL="$build/hull" bash "$src/tests/engines/run.sh" 2>&1 | tee "$log"
	tier_result engines "$log" "${PIPESTATUS[0]}"
	rm -f "$log"
fi

echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
