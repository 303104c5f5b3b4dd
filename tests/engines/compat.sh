#!/bin/bash
# Runs the engines tier's scenarios with hull, crun and runc, one after the
# other in the same run, and writes the scenario x runtime table to
# docs/compat.md (or $1).  Root only; about 2 minutes a runtime.
#   tests/engines/compat.sh [OUT.md]
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${1:-$src/docs/compat.md}
runtimes="hull crun runc"
tmp=$(mktemp -d /tmp/hull-compat.XXXXXX)
# before the table is rewritten (which makes the tree dirty)
rev=$(cd "$src" && git describe --always --dirty 2>/dev/null)
trap 'rm -rf "$tmp"' EXIT

for r in $runtimes; do
	echo "== $r"
	ENGINES_RESULTS=$tmp/$r.tsv bash "$here/run.sh" --runtime "$r" 2>&1 | tee "$tmp/$r.log" | tail -n 1
done
# crun 1.8 refuses this host's hybrid layout outright; a fourth column shows
# what it does once the cgroup2 mount is out of its sight (a private mount
# namespace; the host is unchanged).
if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
	echo "== crun, cgroup2 unmounted"
	ENGINES_HIDE_CGROUP2=1 ENGINES_RESULTS=$tmp/crun-v1.tsv bash "$here/run.sh" --runtime crun 2>&1 |
		tee "$tmp/crun-v1.log" | tail -n 1
	runtimes="$runtimes crun-v1"
fi

ver() { "$@" 2>/dev/null | head -n 1; }
cell() {
	case $1 in
	ok) echo pass ;;
	skip) echo skip ;;
	FAIL) echo "**FAIL**" ;;
	*) echo "not run" ;;
	esac
}

{
	echo "# hull, crun and runc under podman, Docker and containerd"
	echo
	echo "Written by \`tests/engines/compat.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): every"
	echo "scenario of the engines tier (\`tests/engines/run.sh\`), run through the same"
	echo "engine with each runtime in turn, on this machine (Debian 12, kernel $(uname -r),"
	echo "hybrid cgroups: v1 controllers, and a cgroup2 mount at /sys/fs/cgroup/unified)."
	echo
	echo "Engines: $(ver podman --version); $(ver dockerd --version); $(ver containerd --version | cut -d' ' -f1,3)."
	echo "Runtimes: hull $rev; $(ver crun --version); $(ver runc --version)."
	echo
	hdr="| scenario | engine |" sep="|---|---|"
	for r in $runtimes; do
		case $r in crun-v1) hdr="$hdr crun, cgroup2 unmounted |" ;; *) hdr="$hdr $r |" ;; esac
		sep="$sep---|"
	done
	echo "$hdr"; echo "$sep"
	cut -f1 "$tmp/hull.tsv" | while read -r t; do
		e=${t#test_}; e=${e%%_*}
		row="| \`${t#test_${e}_}\` | $e"
		for r in $runtimes; do
			s=$(awk -F'\t' -v t="$t" '$1 == t {print $2}' "$tmp/$r.tsv")
			row="$row | $(cell "$s")"
		done
		echo "$row |"
	done
	echo
	for r in $runtimes; do
		echo "$r: $(tail -n 1 "$tmp/$r.log")$(grep -q '^(' "$tmp/$r.log" && grep '^(' "$tmp/$r.log" | sed 's/^/ /')"
		echo
	done
	cat "$here/compat-notes.md"
	echo
	echo "The first error line of each scenario that did not pass, as printed in this run:"
	echo
	for r in $runtimes; do
		awk -F'\t' -v r="$r" '$2 != "ok" {
			why = $3; gsub(/\|/, "\\|", why)
			printf "- %s, `%s` (%s): %s\n", r, $1, ($2 == "skip" ? "skipped" : "failed"), why }' "$tmp/$r.tsv"
	done
} > "$out"
echo "wrote $out"
