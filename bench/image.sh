#!/bin/bash
# Image import and unpack benchmark: hull against umoci, and against
# skopeo copy + umoci unpack, on the same multi-layer OCI image, in one
# run.  Reports mean wall and CPU milliseconds per step, peak RSS, and
# hull's ratios to each peer.
#
#   bench/image.sh [ITERATIONS]      (as root; default 5; HULL=path/to/hull)
#
# The image is made here, offline, from busybox-static: five gzip layers
# (busybox and its applet links; 3000 small files in 30 directories; 24 MiB
# of incompressible data in 6 files; a layer that rewrites 500 small files;
# a layer of whiteouts that deletes a directory and 300 files).
set -eu
N=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
HULL=$(readlink -f "${HULL:-$here/../hull}")
for t in umoci skopeo jq sha256sum; do
	command -v "$t" >/dev/null || { echo "bench/image.sh: needs $t"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench/image.sh: run as root (umoci and hull keep owners)"; exit 1; }

# Everything happens on a tmpfs, in a mount namespace of the benchmark's
# own: on this machine's shared disk, ext4's inode allocator (slowed by
# the trees the previous round deleted) and other jobs' I/O decide the
# times more than the tools do.
if [ -z "${HULL_BENCH_INNER:-}" ]; then
	exec unshare -m --propagation private env HULL_BENCH_INNER=1 HULL="$HULL" bash "$0" "$@"
fi
work=$(mktemp -d /tmp/hull-bench-image.XXXXXX)
mount -t tmpfs -o size=2g tmpfs "$work"
trap 'umount -l "$work"; rmdir "$work"' EXIT
L=$work/layout

blob() {   # blob FILE: move FILE into the layout's blobs; prints its hex
	local h
	h=$(sha256sum "$1" | cut -c1-64)
	mv "$1" "$L/blobs/sha256/$h"
	echo "$h"
}

make_layers() {
	local s=$work/src
	mkdir -p "$s/1/bin" "$s/2" "$s/3/data" "$s/4" "$s/5"
	cp /bin/busybox "$s/1/bin/"
	for a in $(/bin/busybox --list); do ln -sf busybox "$s/1/bin/$a"; done
	for d in $(seq 30); do
		mkdir -p "$s/2/usr/share/d$d"
		for f in $(seq 100); do
			head -c $((200 + (d * f) % 3000)) /bin/busybox > "$s/2/usr/share/d$d/f$f"
		done
	done
	for f in $(seq 6); do head -c 4M /dev/urandom > "$s/3/data/blob$f"; done
	for d in $(seq 5); do
		mkdir -p "$s/4/usr/share/d$d"
		for f in $(seq 100); do echo "rewritten $d $f" > "$s/4/usr/share/d$d/f$f"; done
	done
	mkdir -p "$s/5/usr/share/d10"
	touch "$s/5/usr/share/.wh.d30"
	for f in $(seq 300); do touch "$s/5/usr/share/d10/.wh.f$f"; done
	for i in 1 2 3 4 5; do tar -C "$s/$i" -czf "$work/layer$i" .; done
	rm -rf "$s"
}

make_image() {
	local layers='[]' diffs='[]' h sz ch cs mh ms
	mkdir -p "$L/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
	make_layers
	for i in 1 2 3 4 5; do
		# umoci needs the config's diff_ids (digests of the plain tars)
		diffs=$(jq -c --arg d "sha256:$(zcat "$work/layer$i" | sha256sum | cut -c1-64)" \
			'. + [$d]' <<<"$diffs")
		sz=$(stat -c %s "$work/layer$i"); h=$(blob "$work/layer$i")
		layers=$(jq -c --arg d "sha256:$h" --argjson s "$sz" '. + [{mediaType:
			"application/vnd.oci.image.layer.v1.tar+gzip",digest:$d,size:$s}]' <<<"$layers")
	done
	jq -n --argjson d "$diffs" '{architecture:"amd64",os:"linux",config:{Cmd:["/bin/sh"]},
		rootfs:{type:"layers",diff_ids:$d}}' > "$work/config"
	cs=$(stat -c %s "$work/config"); ch=$(blob "$work/config")
	jq -n --arg c "sha256:$ch" --argjson cs "$cs" --argjson ls "$layers" \
		'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
		  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},
		  layers:$ls}' > "$work/manifest"
	ms=$(stat -c %s "$work/manifest"); mh=$(blob "$work/manifest")
	jq -n --arg m "sha256:$mh" --argjson ms "$ms" \
		'{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",
		  digest:$m,size:$ms,annotations:{"org.opencontainers.image.ref.name":"bench"}}]}' \
		> "$L/index.json"
}

# timed VAR CMD...: run CMD; add its wall time to VAR and its CPU time
# (user + system, which load on the machine disturbs less) to VAR_cpu, in ms.
timed() {
	local var=$1 e u sy
	shift
	/usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >/dev/null
	read -r e u sy < "$work/time"
	eval "$var=\$(( $var + $(awk -v e="$e" 'BEGIN { printf "%d", e * 1000 }') ))"
	eval "${var}_cpu=\$(( ${var}_cpu + $(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%d", (u + s) * 1000 }') ))"
}
# rss CMD...: peak RSS (KiB) of CMD, by GNU time.
rss() { /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null && cat "$work/rss"; }

make_image
echo "image: 5 gzip layers, $(du -sk "$L/blobs" | cut -f1) KiB compressed; $N iterations"

reset() { for v in t_hi t_hu t_um t_sk t_sku; do eval "$v=0 ${v}_cpu=0"; done; }
one_round() {   # one_round I: every tool once, from a fresh start
	local i=$1 st=$work/store$i
	timed t_hi "$HULL" image --store "$st" import "$L"
	timed t_hu "$HULL" image --store "$st" unpack bench "$work/hull$i"
	timed t_um umoci unpack --image "$L:bench" "$work/umoci$i"
	timed t_sk skopeo copy -q "oci:$L:bench" "oci:$work/sk$i:bench"
	timed t_sku umoci unpack --image "$work/sk$i:bench" "$work/skumoci$i"
	rm -rf "$st" "$work/hull$i" "$work/umoci$i" "$work/sk$i" "$work/skumoci$i"
}
reset
one_round 0      # warm-up: page cache, binaries
reset
for i in $(seq "$N"); do one_round "$i"; done

# Same result: hull's rootfs and umoci's hold the same tree.
"$HULL" image --store "$work/st" import "$L" >/dev/null
"$HULL" image --store "$work/st" unpack bench "$work/h"
umoci unpack --image "$L:bench" "$work/u" >/dev/null
diff -r --no-dereference "$work/h" "$work/u/rootfs" >/dev/null ||
	{ echo "bench/image.sh: hull and umoci unpacked different trees"; exit 1; }
rm -rf "$work/h"
rss_hull=$(rss "$HULL" image --store "$work/st" unpack bench "$work/h")
rss_umoci=$(rss umoci unpack --image "$L:bench" "$work/u2")
rss_skopeo=$(rss skopeo copy -q "oci:$L:bench" "oci:$work/sk:bench")

ms() { echo $(( $1 / N )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<EOF

| tool | step | wall (ms) | CPU (ms) |
|---|---|---:|---:|
| hull | image import (verify + store) | $(ms $t_hi) | $(ms $t_hi_cpu) |
| hull | image unpack | $(ms $t_hu) | $(ms $t_hu_cpu) |
| hull | import + unpack | $(ms $((t_hi + t_hu))) | $(ms $((t_hi_cpu + t_hu_cpu))) |
| umoci | unpack (from the layout) | $(ms $t_um) | $(ms $t_um_cpu) |
| skopeo | copy oci: to oci: | $(ms $t_sk) | $(ms $t_sk_cpu) |
| skopeo + umoci | copy, then unpack | $(ms $((t_sk + t_sku))) | $(ms $((t_sk_cpu + t_sku_cpu))) |

| ratio (below 1: hull is faster) | wall | CPU |
|---|---:|---:|
| hull import + unpack / umoci unpack | $(ratio $((t_hi + t_hu)) $t_um) | $(ratio $((t_hi_cpu + t_hu_cpu)) $t_um_cpu) |
| hull import + unpack / (skopeo copy + umoci unpack) | $(ratio $((t_hi + t_hu)) $((t_sk + t_sku))) | $(ratio $((t_hi_cpu + t_hu_cpu)) $((t_sk_cpu + t_sku_cpu))) |
| hull unpack / umoci unpack | $(ratio $t_hu $t_um) | $(ratio $t_hu_cpu $t_um_cpu) |
| hull import / skopeo copy | $(ratio $t_hi $t_sk) | $(ratio $t_hi_cpu $t_sk_cpu) |

| peak RSS (KiB) | value |
|---|---:|
| hull image unpack | $rss_hull |
| umoci unpack | $rss_umoci |
| skopeo copy | $rss_skopeo |
EOF
