#!/bin/bash
# Container lifecycle benchmark: hull against crun and runc, same bundle,
# same run.  Reports mean milliseconds per operation and hull's ratio to
# each peer, peak RSS of the runtime process, and stripped binary size.
#
#   bench/lifecycle.sh [ITERATIONS]      (as root; default 100)
#
# crun 1.8 refuses hybrid cgroup hosts whose cgroup2 has controllers, so
# the whole benchmark runs in a private mount namespace without the
# cgroup2 mount (the host's mounts are not touched).  All three runtimes
# run under the same conditions.
set -eu
N=${1:-100}
here=$(cd "$(dirname "$0")" && pwd)
HULL=${HULL:-$here/../hull}
HULL=$(readlink -f "$HULL")

if [ -z "${HULL_BENCH_INNER:-}" ]; then
	exec unshare -m --propagation private env HULL_BENCH_INNER=1 HULL="$HULL" bash -c \
		'umount /sys/fs/cgroup/unified 2>/dev/null || true; exec bash "$0" "$@"' "$0" "$@"
fi

work=$(mktemp -d /tmp/hull-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/proc" "$work/bundle/rootfs/dev" \
	"$work/bundle/rootfs/sys" "$work/bundle/rootfs/tmp"
cp /bin/busybox "$work/bundle/rootfs/bin/"
ln -s busybox "$work/bundle/rootfs/bin/true"
ln -s busybox "$work/bundle/rootfs/bin/sh"
# crun 1.8 only accepts 1.0.x versions, so the bundle says 1.0.2 for all.
(cd "$work/bundle" && "$HULL" spec)
jq '.process.args = ["/bin/true"] | .ociVersion = "1.0.2"' "$work/bundle/config.json" > "$work/c" && mv "$work/c" "$work/bundle/config.json"

# The same bundle with a full resources block (issue 4's benchmark).
cp -a "$work/bundle" "$work/res"
jq '.linux.resources = {
	memory: {limit: 268435456, reservation: 134217728},
	cpu: {shares: 512, quota: 50000, period: 100000, cpus: "0-1", mems: "0"},
	pids: {limit: 100},
	devices: [{allow: false, access: "rwm"}]}' "$work/bundle/config.json" > "$work/res/config.json"

runtimes="hull crun runc"
bin_of() { case $1 in hull) echo "$HULL" ;; *) command -v "$1" ;; esac; }

now_ns() { date +%s%N; }

# lifecycle RUNTIME [BUNDLE]: create + start + wait until stopped + delete.
lifecycle() {
	local rt=$1 bundle=${2:-$work/bundle} bin root=$work/root-$1 id
	bin=$(bin_of "$rt")
	local t0 t1
	t0=$(now_ns)
	for i in $(seq "$N"); do
		id=b$i
		"$bin" --root "$root" create --bundle "$bundle" "$id" </dev/null >/dev/null
		"$bin" --root "$root" start "$id"
		while ! "$bin" --root "$root" state "$id" | grep -q '"stopped"'; do :; done
		"$bin" --root "$root" delete "$id"
	done
	t1=$(now_ns)
	echo $(( (t1 - t0) / N / 1000 ))
}

# run RUNTIME: `run` (create, start, wait, delete in one command).
runonce() {
	local rt=$1 bin root=$work/root-$1
	bin=$(bin_of "$rt")
	local t0 t1
	t0=$(now_ns)
	for i in $(seq "$N"); do
		"$bin" --root "$root" run --bundle "$work/bundle" "r$i" </dev/null >/dev/null
	done
	t1=$(now_ns)
	echo $(( (t1 - t0) / N / 1000 ))
}

# peak RSS (KiB) of the runtime process over a few runs.
peak_rss() {
	local rt=$1 bin root=$work/root-$1 max=0 v
	bin=$(bin_of "$rt")
	for i in 1 2 3 4 5; do
		v=$( { /usr/bin/time -f '%M' "$bin" --root "$root" run --bundle "$work/bundle" "m$i" </dev/null >/dev/null; } 2>&1 | tail -n 1)
		[ "$v" -gt "$max" ] && max=$v
	done
	echo "$max"
}

stripped_size() {
	local bin
	bin=$(bin_of "$1")
	strip -o "$work/stripped" "$bin" 2>/dev/null || cp "$bin" "$work/stripped"
	stat -c %s "$work/stripped"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

declare -A LC LCR RUN RSS SIZE
for rt in $runtimes; do
	# warm-up
	"$(bin_of "$rt")" --root "$work/root-$rt" run --bundle "$work/bundle" warm </dev/null >/dev/null
	LC[$rt]=$(lifecycle "$rt")
	LCR[$rt]=$(lifecycle "$rt" "$work/res")
	RUN[$rt]=$(runonce "$rt")
	RSS[$rt]=$(peak_rss "$rt")
	SIZE[$rt]=$(stripped_size "$rt")
done

echo "# lifecycle benchmark, $N iterations, $(uname -r), $(nproc) cpus, $(date -u +%Y-%m-%d)"
printf '%-6s %14s %18s %10s %14s %14s\n' runtime "lifecycle_us" "lifecycle_res_us" "run_us" "peak_rss_kib" "stripped_bytes"
for rt in $runtimes; do
	printf '%-6s %14s %18s %10s %14s %14s\n' "$rt" "${LC[$rt]}" "${LCR[$rt]}" "${RUN[$rt]}" "${RSS[$rt]}" "${SIZE[$rt]}"
done
for peer in crun runc; do
	echo "hull/$peer: lifecycle $(ratio "${LC[hull]}" "${LC[$peer]}")x, with resources $(ratio "${LCR[hull]}" "${LCR[$peer]}")x, run $(ratio "${RUN[hull]}" "${RUN[$peer]}")x, peak RSS $(ratio "${RSS[hull]}" "${RSS[$peer]}")x, size $(ratio "${SIZE[hull]}" "${SIZE[$peer]}")x (lower is better)"
done
