#!/bin/bash
# Checks tests/vm/tier.sh's batching and retry rules without a VM: a fake
# vmhost.sh hangs (exit 124) once in the first boot, one test always fails
# and one fails only once.  Ends with "N passed, N failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)
st=$(mktemp -d /tmp/hull-tiercheck.XXXXXX)
trap 'rm -rf "$st"' EXIT
cat > "$st/vmhost" <<'FAKE'
#!/bin/bash
re=${!#}
n=$(($(cat "$ST/n" 2>/dev/null || echo 0) + 1))
echo "$n" > "$ST/n"
echo "$*" >> "$ST/args"
for t in $(bash "$RUNSH" --list "$re"); do
	case $n:$t in
	1:test_exit_status_0) exit 124 ;;
	*:test_boot_echo|2:test_missing_kernel) echo "FAIL $t (1 s)" ;;
	*) echo "ok   $t (1 s)" ;;
	esac
done
echo "0 passed, 0 failed"
FAKE
chmod +x "$st/vmhost"
ST=$st RUNSH=$here/run.sh HULL_VM_VMHOST=$st/vmhost HULL_VM_BATCHES=2 \
	bash "$here/tier.sh" '^test_(args_with_spaces|exit_status_0|missing_kernel|boot_echo)$' \
	> "$st/out" 2>&1
rc=$?
export ST RUNSH
passed=0 failed=0
check() { # WHAT CONDITION...
	local what=$1
	shift
	if "$@"; then echo "ok   $what"; passed=$((passed + 1))
	else echo "FAIL $what"; sed 's/^/    /' "$st/out"; failed=$((failed + 1)); fi
}
check "exit status 1 (one test failed twice)" [ "$rc" = 1 ]
check "three boots: two batches and one retry" [ "$(cat "$st/n")" = 3 ]
check "summary counts the flaky and the hung test as passed" \
	[ "$(tail -n 1 "$st/out")" = "3 passed, 1 failed" ]
check "the retry says why" grep -q '^vm: retry: test_exit_status_0 did not report (the boot timed out)' "$st/out"
check "the retry boot runs only the unreported and failed tests, the hung one last" \
	grep -q 'run.sh ^(test_boot_echo|test_missing_kernel|test_exit_status_0)\$$' "$st/args"
check "no inner summary line leaks through" [ "$(grep -c 'passed,' "$st/out")" = 1 ]

# A locked-up boot prints nothing more: with HULL_VM_IDLE_S=3 the tier ends
# it (its child, standing for QEMU, gets TERM) instead of waiting for the
# batch's timeout, and the tests it had not reported pass in the retry.
cat > "$st/vmhost2" <<'FAKE'
#!/bin/bash
re=${!#}
n=$(($(cat "$ST/n2" 2>/dev/null || echo 0) + 1))
echo "$n" > "$ST/n2"
for t in $(bash "$RUNSH" --list "$re"); do
	echo "ok   $t (1 s)"
	if [ "$n" = 1 ]; then sleep 120 & wait $!; exit 124; fi
done
echo "0 passed, 0 failed"
FAKE
chmod +x "$st/vmhost2"
t0=$SECONDS
ST=$st RUNSH=$here/run.sh HULL_VM_VMHOST=$st/vmhost2 HULL_VM_BATCHES=1 HULL_VM_IDLE_S=3 \
	bash "$here/tier.sh" '^test_(args_with_spaces|exit_status_0|missing_kernel)$' \
	> "$st/out" 2>&1
rc=$?
check "a silent boot is ended after HULL_VM_IDLE_S, not its timeout" \
	[ "$rc:$((SECONDS - t0 < 60))" = "0:1" ]
check "it says so" grep -q '^vm: boot 1: no result line for 3s: ending it' "$st/out"
check "the retry passes the rest" [ "$(tail -n 1 "$st/out")" = "3 passed, 0 failed" ]
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
