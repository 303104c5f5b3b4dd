#!/bin/bash
# A 30 s libFuzzer run of the layer extractor (fuzz/fuzz_unpack) from a
# seed corpus of small tars made here: files, directories, symlinks,
# hardlinks, a device, whiteouts, an opaque directory, gzip and zstd.
# Exits non-zero when the fuzzer finds a crash, a leak or a write outside
# the extraction root.  Usage: fuzz/smoke_unpack.sh [SECONDS]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
if ! command -v clang >/dev/null; then
	echo "skipped: clang is not installed (apt-get install clang libclang-rt-14-dev)"
	exit 0
fi
build=${HULL_BUILD:-$PWD}     # where configure ran (tests/run.sh's HULL_BUILD)
make -C "$build" -s fuzz-unpack >/dev/null
work=$(mktemp -d /tmp/hull-fuzz-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/src corpus=$work/corpus
mkdir -p "$src/a/b" "$src/opq" "$corpus"
echo hello > "$src/a/file"; ln "$src/a/file" "$src/a/hard"
ln -s ../a/file "$src/a/b/rel"; ln -s /etc/passwd "$src/a/abs"
touch "$src/a/.wh.gone" "$src/opq/.wh..wh..opq"
mknod "$src/a/null" c 1 3 2>/dev/null || true
mkfifo "$src/a/fifo"
n=0
seed() { n=$((n + 1)); tar -C "$src" "$@" -f "$corpus/seed$n" .; }
seed -c
seed -c --format=gnu
seed -c --format=pax
seed -cz
command -v zstd >/dev/null && seed -c --zstd
tar -C "$src" -cf "$corpus/small" a/file
printf '' > "$corpus/empty"
echo "fuzz_unpack: $(ls "$corpus" | wc -l) seeds, ${secs}s"
# -rss_limit and -max_len keep it inside a CI runner; artifacts go to $work
"$build/fuzz/fuzz_unpack" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
	-artifact_prefix="$work/" -print_final_stats=1 "$corpus" 2>"$work/log" || {
	tail -n 40 "$work/log"
	mkdir -p fuzz/crashes && cp "$work"/crash-* "$work"/leak-* fuzz/crashes/ 2>/dev/null || true
	echo "fuzz_unpack: FAILED (inputs saved in fuzz/crashes/)"
	exit 1
}
grep -E '^stat::(number_of_executed_units|new_units_added)' "$work/log" || true
echo "fuzz_unpack: no crash in ${secs}s"
