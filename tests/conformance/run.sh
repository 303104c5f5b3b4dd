#!/bin/bash
# OCI runtime-spec conformance: one test per spec section hull honours,
# each observing the config from inside the container, run against every
# runtime given (default: hull, crun, runc; a peer that is not installed
# is reported as skipped).  Prints a line per test per runtime, a table,
# and "N passed, N failed, N skipped" counting hull's results only.
#
#   tests/conformance/run.sh [RUNTIME...]      (as root)
#   CONF_ONLY=REGEX tests/conformance/run.sh   (only the matching tests)
#
# A RUNTIME is hull (the binary at $HULL, default ./hull next to the
# sources), or a name or path of another OCI runtime.
#
# crun 1.8 refuses this machine's hybrid cgroup layout while the empty
# cgroup2 is mounted at /sys/fs/cgroup/unified, so the whole run happens
# in a private mount namespace without that mount (as bench/lifecycle.sh
# does); the host's mounts are not touched.  All runtimes run under the
# same conditions.
set -u
here=$(cd "$(dirname "$0")" && pwd)
HULL=$(readlink -f "${HULL:-$here/../../hull}")
export HULL

if [ "$(id -u)" -ne 0 ]; then
	echo "conformance: skipped: needs root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ -z "${CONF_INNER:-}" ]; then
	exec unshare -m --propagation private env CONF_INNER=1 bash -c \
		'umount /sys/fs/cgroup/unified 2>/dev/null || true; exec bash "$0" "$@"' "$0" "$@"
fi

[ $# -gt 0 ] || set -- hull crun runc

TESTS="root mounts process_args_env_cwd process_user process_umask
process_capabilities process_rlimits process_no_new_privileges
process_oom_score_adj process_terminal hostname namespaces
namespaces_join user_namespace_mappings devices cgroups sysctl seccomp
rootfs_propagation masked_paths readonly_paths mount_label personality
hooks hooks_fail state lifecycle lifecycle_errors config_errors"

export CONF_TOP=/tmp/hull-conf.$$
export TPL=$CONF_TOP/template
mkdir -p "$CONF_TOP"
trap 'umount -l "$CONF_TOP" 2>/dev/null; rm -rf "$CONF_TOP"' EXIT
# The work directory is a shared mount of its own (in our private
# namespace), so that rootfsPropagation slave/shared has a peer to show.
mount --bind "$CONF_TOP" "$CONF_TOP" && mount --make-shared "$CONF_TOP"
# crun 1.8 chowns its stdio to the container's root user when it makes a
# user namespace, /dev/null included (runc skips /dev/null): the host's
# /dev/null was seen owned by 100000:200000 after user_namespace_mappings.
# This private namespace gets a /dev/null node of its own.
mknod -m 666 "$CONF_TOP/null" c 1 3 && mount --bind "$CONF_TOP/null" /dev/null

# The template bundle: a busybox-static rootfs and `hull spec` at
# ociVersion 1.0.2 (crun 1.8 only accepts 1.0.x).
. "$here/../common.sh"
make_rootfs "$TPL/rootfs"
chmod 1777 "$TPL/rootfs/tmp"
(cd "$TPL" && "$HULL" spec) || exit 1
jq '.ociVersion = "1.0.2" | .process.args = ["true"]' "$TPL/config.json" >"$TPL/c" &&
	mv "$TPL/c" "$TPL/config.json"
export RECVTTY=$(cd "$(dirname "$HULL")" && pwd)/tests/helpers/recvtty

bin_of() {
	case $1 in
	hull) echo "$HULL" ;;
	*) command -v "$1" ;;
	esac
}

declare -A RES
n=0
for RT in "$@"; do
	RTB=$(bin_of "$RT")
	if [ -z "$RTB" ] || [ ! -x "$RTB" ]; then
		echo "$RT: skipped: not installed"
		for t in $TESTS; do RES[$t,$RT]=absent; done
		continue
	fi
	for t in $TESTS; do
		if [ -n "${CONF_ONLY:-}" ] && ! [[ "$t" =~ $CONF_ONLY ]]; then
			continue
		fi
		n=$((n + 1))
		W=$CONF_TOP/w$n
		ROOT=$W/state
		mkdir -p "$ROOT"
		ID=cf$$-$n
		timeout -k 5 "${CONF_TIMEOUT:-120}" env RT="$RT" RTB="$RTB" ROOT="$ROOT" W="$W" ID="$ID" \
			bash -c '. "$1/lib.sh"; for f in "$1"/t_*.sh; do . "$f"; done
			cd "$W"; ct_$2' _ "$here" "$t" >"$W/out" 2>&1 </dev/null
		rc=$?
		out=$(cat "$W/out")
		[ $rc -eq 124 ] && out="$out
timed out after ${CONF_TIMEOUT:-120}s"
		# Whatever the test did, clean up what it left.
		for id in $(ls "$ROOT" 2>/dev/null); do
			timeout 20 "$RTB" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
		done
		case $rc in
		0)
			RES[$t,$RT]=ok
			printf '%-5s %-4s %s\n' ok "$RT" "$t"
			printf '%s\n' "$out" | grep '^skipped:' | sed 's/^/      /'
			;;
		77)
			RES[$t,$RT]=skip
			printf '%-5s %-4s %s: %s\n' skip "$RT" "$t" \
				"$(printf '%s\n' "$out" | grep '^skipped:' | tail -n 1)"
			;;
		*)
			RES[$t,$RT]=FAIL
			printf '%-5s %-4s %s\n' FAIL "$RT" "$t"
			printf '%s\n' "$out" | tail -n 12 | sed 's/^/      /'
			;;
		esac
		# a mount a runtime leaked into our namespace (reported by the
		# test that caused it) must not stop the next tests
		for m in $(awk -v w="$W" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
			umount -l "$m"
		done
		rm -rf "$W"
	done
done

echo
printf '%-28s' test
for RT in "$@"; do printf ' %-6s' "$RT"; done
echo
passed=0 failed=0 skipped=0
for t in $TESTS; do
	if [ -n "${CONF_ONLY:-}" ] && ! [[ "$t" =~ $CONF_ONLY ]]; then
		continue
	fi
	printf '%-28s' "$t"
	for RT in "$@"; do printf ' %-6s' "${RES[$t,$RT]:--}"; done
	echo
	case ${RES[$t,hull]:-} in
	ok) passed=$((passed + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	skip) skipped=$((skipped + 1)) ;;
	esac
done
case " $* " in
*" hull "*) ;;
*) echo "(hull was not among the runtimes: nothing counted)" ;;
esac
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
