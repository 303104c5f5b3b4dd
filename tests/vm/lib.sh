# Helpers for tests/vm/t_*.sh.

# make_rootfs DIR: a busybox-static root with applet links and a user.
make_rootfs() {
	local r=$1 a
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/home/alice"
	cp "$BUSYBOX" "$r/bin/busybox"
	# One process for all the links: an ln per applet costs about 80 s
	# under TCG in the test host VM.
	"$BUSYBOX" --list | perl -e 'my $d = shift; while (<STDIN>) {
		chomp; next if $_ eq "busybox" || -e "$d/$_";
		symlink("busybox", "$d/$_") or exit 1 }' "$r/bin" 2>/dev/null ||
		for a in $("$BUSYBOX" --list); do
			[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
		done
	echo "root:x:0:0:root:/:/bin/sh" > "$r/etc/passwd"
	echo "alice:x:1000:1000::/home/alice:/bin/sh" >> "$r/etc/passwd"
	chown 1000:1000 "$r/home/alice"
}

# vmm [hull vmm flags] -- CMD...: one VM from the test rootfs.
vmm() {
	timeout -k 10 300 "$HULL" vmm --kernel "$KERNEL" --rootfs "$work/rootfs" "$@"
}

fail() {
	echo "$*" >&2
	return 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# expect_status WANT CMD...: CMD exits with WANT.
expect_status() {
	local want=$1 st=0
	shift
	"$@" || st=$?
	expect_eq "status of $*" "$st" "$want"
}
