#!/bin/sh
# Short libFuzzer run of the virtqueue parser: non-zero on a crash.
# Usage: fuzz/smoke.sh [SECONDS]   (from the build directory; default 30)
secs=${1:-30}
if ! command -v clang >/dev/null 2>&1; then
	echo "skipped: no clang"
	exit 0
fi
make -s fuzz-virtq || exit 1
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
if ./fuzz/fuzz_virtq -artifact_prefix=fuzz/ -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 \
	-print_final_stats=1 "$corpus" >fuzz/smoke.log 2>&1; then
	grep -E 'stat::number_of_executed_units|cov:' fuzz/smoke.log | tail -2
	echo "1 passed, 0 failed"
else
	tail -40 fuzz/smoke.log
	echo "0 passed, 1 failed"
	exit 1
fi
