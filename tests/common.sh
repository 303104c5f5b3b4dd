# Shell helpers shared by the integration and conformance tiers (sourced).
BUSYBOX=${BUSYBOX:-/bin/busybox}

# make_rootfs DIR: a busybox-static rootfs with applet links.
make_rootfs() {
	local r=$1
	mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/etc" "$r/root"
	cp "$BUSYBOX" "$r/bin/busybox"
	for a in $("$BUSYBOX" --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
	echo 'root:x:0:' > "$r/etc/group"
}

# wait_for TENTHS CMD...: retry CMD every 0.1 s; fails after TENTHS tries.
wait_for() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# cfg_at BUNDLE FILTER [STRING...]: edit BUNDLE/config.json with a jq filter;
# the strings are the array $A (passed with --arg, so that neither a leading
# "-" nor a newline in them confuses jq).
cfg_at() {
	local b=$1 f=$2 i=0 names="" a
	local opts=()
	shift 2
	for a in "$@"; do
		opts+=(--arg "a$i" "$a")
		names="$names${names:+,}\$a$i"
		i=$((i + 1))
	done
	jq "${opts[@]}" "[$names] as \$A | $f" "$b/config.json" > "$b/config.json.new" &&
		mv "$b/config.json.new" "$b/config.json"
}
