#!/bin/sh
# Installs what tests/vmhost/vmhost.sh needs on a Debian 12 host: QEMU
# (TCG is enough; no /dev/kvm is needed on the host), busybox-static for the
# initramfs, cpio+xz to pack it and decompress modules.  The guest kernel is
# not installed: vmhost.sh fetches its .deb with `apt-get download`.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	qemu-system-x86 busybox-static cpio xz-utils zstd kmod >/dev/null
