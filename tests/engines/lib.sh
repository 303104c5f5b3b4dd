# Shared helpers for the engines tier.  Sourced by run.sh (which sets the
# engines up once) and by every test's own bash (which only uses them).
#
# Everything lives under $W; every engine runs inside the network namespace
# $NETNS that run.sh made, entered with nsenter --net only (ip netns exec
# would remount /sys and hide the cgroup mounts).  The runtime under test
# ($ENGINES_RUNTIME: hull, crun or runc) is called through a wrapper, $RT,
# that logs each call to $W/rt.log, so a test can tell that the engine
# really used it.

: "${W:?}" "${NETNS:?}" "${ENGINES_RUNTIME:?}" "${RT:?}"

fail() { echo "FAIL: $*" >&2; return 1; }
# skip WHY: this scenario cannot run here (run.sh counts it apart).
skip() { echo "skipped: $*"; exit 77; }

expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
expect_contains() {
	case "$2" in
	*"$3"*) return 0 ;;
	*) fail "$1: '$2' does not contain '$3'" ;;
	esac
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s.
wait_for() {
	local n=$(($1 * 5)); shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2; n=$((n - 1))
	done
	return 1
}

innet() { nsenter --net="/run/netns/$NETNS" "$@"; }

# The engine really called the runtime under test with VERB.
expect_runtime_used() {
	grep -Eq "(^| )$1( |$)" "$W/rt.log" 2>/dev/null ||
		fail "the engine never ran '$ENGINES_RUNTIME $1' (calls: $(cut -c1-60 "$W/rt.log" 2>/dev/null | tr '\n' '|'))"
}

# podman with the test's containers.conf (the runtime under test is the
# default, registered by name) and storage.conf.
pm() {
	CONTAINERS_CONF=$W/podman/containers.conf \
	CONTAINERS_STORAGE_CONF=$W/podman/storage.conf \
	CONTAINERS_REGISTRIES_CONF=$W/podman/registries.conf \
	XDG_CONFIG_HOME=$W/podman/xdg \
		innet podman "$@"
}

dk() { DOCKER_CONFIG=$W/docker/cli /usr/bin/docker -H "unix://$W/docker/docker.sock" "$@"; }

# ctr with the runc shim pointed at the runtime under test.
CTR_NS=hulltest
ct() { ctr --address "$W/containerd/containerd.sock" -n "$CTR_NS" "$@"; }
ct_run() { ct run --runc-binary "$RT" --runc-root "$W/containerd/runc-root" "$@"; }

# Docker's name for the runtime under test ("runc" is reserved there).
docker_rt_name() {
	case $ENGINES_RUNTIME in runc) echo testrunc ;; *) echo "$ENGINES_RUNTIME" ;; esac
}

# in_tmux NAME CMD: run CMD on a real terminal (a tmux pane 100x30); its
# exit status goes to $W/NAME.rc.
TMUX_SOCK=hullengines-$$
in_tmux() {
	local name=$1; shift
	rm -f "$W/$name.rc"
	tmux -L "$TMUX_SOCK" new-session -d -s "$name" -x 100 -y 30 \
		"$*; echo \$? > $W/$name.rc; sleep 30"
}
tmux_keys() { tmux -L "$TMUX_SOCK" send-keys -t "$1" "$2" Enter; }
tmux_screen() { tmux -L "$TMUX_SOCK" capture-pane -p -t "$1"; }
tmux_end() { tmux -L "$TMUX_SOCK" kill-session -t "$1" 2>/dev/null; true; }
# tmux_expect NAME TEXT: wait until TEXT shows on the pane.
tmux_expect() {
	wait_for 20 sh -c "tmux -L '$TMUX_SOCK' capture-pane -p -t '$1' | grep -qF -- '$2'" ||
		fail "'$2' never showed on the terminal: $(tmux_screen "$1" | grep -v '^$' | tail -n 5)"
}
# tmux_rc NAME: the exit status of the pane's command, once it is known.
tmux_rc() {
	wait_for 20 test -s "$W/$1.rc" || { fail "the command on the terminal did not end"; return 1; }
	cat "$W/$1.rc"
}

# cg_read PID CONTROLLER V1FILE V2FILE: a cgroup file of a process, seen
# from the host (cgroup v1 controller hierarchy, else the unified one).
cg_read() {
	local pid=$1 ctl=$2 path
	path=$(awk -F: -v c="$ctl" '$2 == c {print $3}' "/proc/$pid/cgroup")
	if [ -n "$path" ]; then
		cat "/sys/fs/cgroup/$ctl$path/$3"
	else
		path=$(awk -F: '$1 == "0" {print $3}' "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup$path/$4"
	fi
}
