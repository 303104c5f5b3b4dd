#!/bin/bash
# Builds hull's guest kernel from Debian's linux-source-6.1 with
# kernel.config applied on top of allnoconfig, into
#   $CACHE/<hash>/{vmlinux,bzImage,config}
# where <hash> covers the fragment and the source package's version, so a
# second run with nothing changed is instant.  $CACHE/vmlinux and
# $CACHE/bzImage then point at the newest build (hull's default kernel).
#
#   microvm/guest/build-kernel.sh [--print-dir]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${HULL_KERNEL_CACHE:-/var/cache/hull/kernel}
fragment=$here/kernel.config
jobs=${JOBS:-$(nproc)}

fail() { echo "guest-kernel: $*" >&2; exit 1; }

tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null) ||
	fail "no /usr/src/linux-source-6.1.tar.xz: apt-get install linux-source-6.1"
srcver=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null || echo unknown)
key=$( (cat "$fragment"; echo "$srcver") | sha256sum | cut -c1-16)
out=$cache/$key

link_default() {
	ln -sfn "$key/vmlinux" "$cache/vmlinux.tmp" && mv -T "$cache/vmlinux.tmp" "$cache/vmlinux"
	ln -sfn "$key/bzImage" "$cache/bzImage.tmp" && mv -T "$cache/bzImage.tmp" "$cache/bzImage"
}

if [ -f "$out/.done" ]; then
	link_default
	echo "guest-kernel: cached $out"
	exit 0
fi

mkdir -p "$cache"
src=$cache/src-$srcver
if [ ! -f "$src/.done" ]; then
	echo "guest-kernel: unpacking $tarball"
	rm -rf "$src" && mkdir -p "$src"
	tar -C "$src" --strip-components=1 -xJf "$tarball"
	touch "$src/.done"
fi

# One build tree for every fragment: make rebuilds only what a change touches.
build=$cache/build
mkdir -p "$build"
make -s -C "$src" O="$build" ARCH=x86_64 KCONFIG_ALLCONFIG="$fragment" allnoconfig

# Every line of the fragment must have survived Kconfig's dependency
# resolution; a silently dropped option is a kernel that does not boot.
missing=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=n) opt=${line%%=*}
		grep -q "^$opt=" "$build/.config" && { echo "  $opt still set" >&2; missing=1; } ;;
	CONFIG_*=*)
		grep -qx "$line" "$build/.config" || { echo "  $line not in .config" >&2; missing=1; } ;;
	esac
done < "$fragment"
[ $missing = 0 ] || fail "the fragment's options above did not apply"

echo "guest-kernel: building in $build ($jobs jobs)"
make -s -C "$src" O="$build" ARCH=x86_64 -j"$jobs" vmlinux bzImage

tmp=$out.tmp.$$
rm -rf "$tmp" && mkdir -p "$tmp"
cp "$build/vmlinux" "$tmp/vmlinux"
strip --strip-debug "$tmp/vmlinux" 2>/dev/null || true
cp "$build/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$build/.config" "$tmp/config"
touch "$tmp/.done"
rm -rf "$out" && mv "$tmp" "$out"
link_default
echo "guest-kernel: built $out"
