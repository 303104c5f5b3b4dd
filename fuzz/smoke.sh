#!/bin/sh
# Short libFuzzer runs of the virtqueue parser, of the transport with the
# blk and rng devices and of the exec agent's codec: non-zero on a crash, a
# leak or a hang (5 s per input).
# Usage: fuzz/smoke.sh [SECONDS]   (from the build directory; default 30 per target)
secs=${1:-30}
if ! command -v clang >/dev/null 2>&1; then
	echo "skipped: no clang"
	echo "0 passed, 0 failed"
	exit 0
fi
make -s fuzz-virtq fuzz-agent || exit 1
pass=0 fail=0
for t in fuzz_virtq fuzz_virtio_dev fuzz_agent_proto; do
	corpus=$(mktemp -d)
	if ./fuzz/$t -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 \
		-artifact_prefix=fuzz/ -print_final_stats=1 "$corpus" >fuzz/$t.log 2>&1; then
		echo "$t: $(grep -o 'number_of_executed_units: *[0-9]*' fuzz/$t.log | tr -s ' ') ok"
		pass=$((pass + 1))
	else
		tail -40 fuzz/$t.log
		echo "$t: FAILED (see fuzz/$t.log and fuzz/crash-*)"
		fail=$((fail + 1))
	fi
	rm -rf "$corpus"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
