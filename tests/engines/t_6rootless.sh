# Rootless podman: an unprivileged user (nobody) runs podman, which runs the
# runtime as the root of its own user namespace.  No subuid range here, so
# podman maps the one uid; cgroup v1 delegates no cgroup to a user, so no
# limits; storage is vfs under $W.

RL_UID=65534
RL=$W/rootless
# conmon's sockets live under XDG_RUNTIME_DIR: a long path there costs each
# attached run a 20 s timeout (unix socket paths are short)
RL_RUN=/tmp/hrl.${NETNS#hullengines-}

rl_setup() {
	mkdir -p "$RL/home" "$RL_RUN" "$RL/cfg"
	cat > "$RL/cfg/containers.conf" <<-EOF2
	[containers]
	log_driver = "k8s-file"
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	events_logfile_path = "$RL/home/events.log"
	runtime = "$ENGINES_RUNTIME"
	runtime_supports_json = ["crun", "runc", "hull"]
	[engine.runtimes]
	$ENGINES_RUNTIME = ["${RL_RT:-$RT}"]
	EOF2
	printf '[storage]\ndriver = "vfs"\n' > "$RL/cfg/storage.conf"
	chown -R $RL_UID:$RL_UID "$RL" "$RL_RUN"
	chmod 700 "$RL_RUN"
	chmod 666 "$W/rt.log"
	setpriv --reuid $RL_UID --regid $RL_UID --clear-groups unshare -U -r true 2>/dev/null ||
		skip "unprivileged user namespaces are not allowed here"
	rlpm import - localhost/hbb:latest < "$W/rootfs.tar" >/dev/null
}

rlpm() {
	nsenter --net="/run/netns/$NETNS" setpriv --reuid $RL_UID --regid $RL_UID --clear-groups \
		env HOME="$RL/home" XDG_RUNTIME_DIR="$RL_RUN" USER=nobody \
		CONTAINERS_CONF="$RL/cfg/containers.conf" CONTAINERS_STORAGE_CONF="$RL/cfg/storage.conf" \
		CONTAINERS_REGISTRIES_CONF="$W/podman/registries.conf" podman "$@"
}

test_rootless_podman_run_exec_stop() {
	local out rc=0
	rl_setup
	out=$(rlpm run --rm --network none localhost/hbb sh -c 'id -u; tr -s " " < /proc/self/uid_map')
	expect_eq "run" "$out" "0
 0 $RL_UID 1"
	[ -n "${RL_RT:-}" ] || expect_runtime_used create
	rlpm run --rm --network none localhost/hbb sh -c 'exit 7' || rc=$?
	expect_eq "exit status" "$rc" 7
	rlpm run -d --network none --name rl1 localhost/hbb sh -c "$TERM_LOOP" >/dev/null
	out=$(rlpm exec rl1 sh -c 'echo exec-ok; cat /proc/1/cmdline | tr "\0" " "')
	expect_contains "exec" "$out" exec-ok
	expect_contains "exec" "$out" trap
	rlpm stop -t 10 rl1 >/dev/null
	expect_contains "logs" "$(rlpm logs rl1)" got-term
	rlpm rm rl1 >/dev/null
	expect_eq "containers left" "$(rlpm ps -aq)" ""
}

test_rootless_podman_network() {
	local out
	rl_setup
	setpriv --reuid $RL_UID --regid $RL_UID --clear-groups sh -c ': < /dev/net/tun' 2>/dev/null ||
		skip "rootless networking needs /dev/net/tun, which this host keeps root-only ($(stat -c %A /dev/net/tun))"
	out=$(rlpm run --rm localhost/hbb ip -o addr)
	expect_contains "slirp4netns tap" "$out" tap0
}

cleanup_rootless() {
	[ -d "$RL_RUN" ] || return 0
	rlpm rm -af -t 0 >/dev/null 2>&1
	# rootless podman keeps a pause process for its user namespace
	local p
	for p in $(cat "$RL_RUN/libpod/tmp/pause.pid" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$RL" "$RL_RUN"
}
