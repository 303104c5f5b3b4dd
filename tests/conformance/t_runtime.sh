# runtime.md and config.md's hooks: lifecycle, operations and their
# errors, the state, hooks with the state on their stdin, annotations.

# A host hook: records its name in $W/log/order and its stdin.
write_hook() {
	mkdir -p "$W/log"
	cat >"$W/hook.sh" <<-'EOF'
	#!/bin/sh
	cat >"$HOOKLOG/$1.json"
	echo "$1" >>"$HOOKLOG/order"
	EOF
}

# config hooks: every kind; startContainer runs inside the container, so
# its path is the rootfs's sh and it writes to a bind of $W/log.
ct_hooks() {
	local id=$ID-h k order rb
	newb
	write_hook
	rb=$(cd "$B" && pwd -P)
	cfg '.annotations = {"org.conformance.hook": "yes"}
		| .mounts += [{destination: "/hooklog", type: "bind", source: $A[0], options: ["bind"]}]
		| .process.args = ["sh", "-c", "echo process >> /hooklog/order"]
		| def h(n): {path: "/bin/sh", args: ["sh", $A[1], n], env: ["HOOKLOG=" + $A[0]]};
		.hooks = {prestart: [h("prestart")], createRuntime: [h("createRuntime")],
			createContainer: [h("createContainer")],
			startContainer: [{path: "/bin/sh", args: ["sh", "-c",
				"cat > /hooklog/startContainer.json; echo startContainer >> /hooklog/order"]}],
			poststart: [h("poststart")], poststop: [h("poststop")]}' "$W/log" "$W/hook.sh"
	create_bg "$id" || return 1
	# Every check runs, so that the log shows all that differs.
	local bad=0
	order=$(sort "$W/log/order" | tr '\n' ' ')
	want "hooks run by create" "$order" "createContainer createRuntime prestart " || bad=1
	want "createContainer after createRuntime" "$(tail -n 1 "$W/log/order")" createContainer || bad=1
	rt start "$id" || return 1
	wait_for 50 is_stopped "$id" || fail "did not stop" || return 1
	has "startContainer then the process" "$(tr '\n' ' ' <"$W/log/order")" "startContainer process" || bad=1
	has "poststart ran by start" "$(cat "$W/log/order")" poststart || bad=1
	[ ! -e "$W/log/poststop.json" ] || fail "poststop ran before delete" || bad=1
	rt delete "$id" || return 1
	want "poststop last, by delete" "$(tail -n 1 "$W/log/order")" poststop || bad=1
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		[ -e "$W/log/$k.json" ] || { fail "$k did not run"; bad=1; continue; }
		want "$k state: id, bundle, annotation" \
			"$(jq -r '[.id, .bundle, .annotations["org.conformance.hook"]] | join(" ")' "$W/log/$k.json")" \
			"$id $rb yes" || bad=1
		[ -n "$(jq -r '.ociVersion // empty' "$W/log/$k.json")" ] || fail "$k state: no ociVersion" || bad=1
	done
	for k in prestart createRuntime createContainer startContainer poststart; do
		[ "$(jq -r '.pid // 0' "$W/log/$k.json" 2>/dev/null)" -gt 0 ] || fail "$k state: no pid" || bad=1
	done
	# runtime.md: creating until create has finished; created until the
	# program runs; stopped after it has exited.
	for k in prestart:creating createRuntime:creating createContainer:creating \
		startContainer:created poststart:running poststop:stopped; do
		want "${k%:*} state status" "$(jq -r .status "$W/log/${k%:*}.json" 2>/dev/null)" "${k#*:}" || bad=1
	done
	return $bad
}

# The state of a created container: ociVersion, id, status, pid (the
# container process, as the host sees it), bundle, annotations.
ct_state() {
	local id=$ID-s s pid rb
	newb
	rb=$(cd "$B" && pwd -P)
	cfg '.annotations = {"org.conformance.a": "1", "org.conformance.b": "two words"}'
	script 'sleep 30'
	rt create --bundle "$B" --pid-file "$W/pidfile" "$id" </dev/null >"$W/c.log" 2>&1 ||
		{ cat "$W/c.log"; return 1; }
	s=$(rt state "$id") || return 1
	[ -n "$(printf '%s' "$s" | jq -r '.ociVersion // empty')" ] || fail "no ociVersion: $s" || return 1
	want "id" "$(printf '%s' "$s" | jq -r .id)" "$id" || return 1
	want "status" "$(printf '%s' "$s" | jq -r .status)" created || return 1
	want "bundle" "$(printf '%s' "$s" | jq -r .bundle)" "$rb" || return 1
	want "annotations" "$(printf '%s' "$s" | jq -c .annotations)" \
		'{"org.conformance.a":"1","org.conformance.b":"two words"}' || return 1
	pid=$(printf '%s' "$s" | jq -r .pid)
	[ "$pid" -gt 0 ] && [ -d "/proc/$pid" ] || fail "pid $pid is not a live process" || return 1
	want "--pid-file" "$(cat "$W/pidfile")" "$pid" || return 1
	# the pid is the container's process: it is in the container's pid ns
	[ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] ||
		fail "pid $pid is not in the container's pid namespace" || return 1
	rt start "$id" || return 1
	want "status after start" "$(st "$id" status)" running || return 1
	want "pid after start" "$(st "$id" pid)" "$pid" || return 1
	rt kill "$id" KILL || return 1
	wait_for 50 is_stopped "$id" || fail "not stopped after SIGKILL" || return 1
	rt delete "$id"
}

# The lifecycle (runtime.md): create runs nothing of the user's program,
# start runs it, the process exiting stops the container, delete removes
# it; run passes the exit status on.
ct_lifecycle() {
	local id=$ID-l
	newb
	mkdir -p "$W/io"
	cfg '.mounts += [{destination: "/out", type: "bind", source: $A[0], options: ["bind"]}]' "$W/io"
	script 'echo ran > /out/m; read x < /out/fifo'
	mkfifo "$W/io/fifo"
	create_bg "$id" || return 1
	want "status after create" "$(st "$id" status)" created || return 1
	sleep 0.3
	[ ! -e "$W/io/m" ] || fail "the program ran before start" || return 1
	rt start "$id" || return 1
	wait_for 50 test -e "$W/io/m" || fail "the program did not run after start" || return 1
	want "status after start" "$(st "$id" status)" running || return 1
	echo go >"$W/io/fifo"
	wait_for 50 is_stopped "$id" || fail "not stopped after the process exited" || return 1
	rt delete "$id" || return 1
	! rt state "$id" >/dev/null 2>&1 || fail "state still answers after delete" || return 1
	# kill with a signal the process handles, by name, number and SIGNAME
	local sig
	for sig in TERM 15 SIGTERM; do
		kill_term "$id" "$sig" || return 1
	done
	# run: the exit status of the process
	cfg '.mounts = [.mounts[] | select(.destination != "/out")]'
	inside 'exit 7'
	want "run exit status" "$?" 7
}

# kill_term ID SIG: a started container's process gets SIG (a SIGTERM).
kill_term() {
	rm -f "$W/io/t" "$W/io/r"
	script 'trap "echo got-term > /out/t; exit 0" TERM; echo ready > /out/r; while :; do sleep 0.1; done'
	create_bg "$1" || return 1
	rt start "$1" || return 1
	wait_for 50 test -e "$W/io/r" || fail "not ready" || return 1
	rt kill "$1" "$2" || return 1
	wait_for 50 is_stopped "$1" || fail "not stopped after kill $2" || return 1
	want "kill $2 reached the process" "$(cat "$W/io/t" 2>/dev/null)" got-term || return 1
	rt delete "$1"
}

# The errors runtime.md requires: each fails and changes nothing.
ct_lifecycle_errors() {
	local id=$ID-e
	newb
	! rt state "$ID-nosuch" >/dev/null 2>&1 || fail "state of an unknown id succeeded" || return 1
	! rt start "$ID-nosuch" >/dev/null 2>&1 || fail "start of an unknown id succeeded" || return 1
	! rt kill "$ID-nosuch" KILL >/dev/null 2>&1 || fail "kill of an unknown id succeeded" || return 1
	! rt delete "$ID-nosuch" >/dev/null 2>&1 || fail "delete of an unknown id succeeded" || return 1
	script 'sleep 30'
	create_bg "$id" || return 1
	! rt create --bundle "$B" "$id" </dev/null >/dev/null 2>&1 || fail "duplicate id accepted" || return 1
	want "the first container after a duplicate create" "$(st "$id" status)" created || return 1
	rt start "$id" || return 1
	! rt start "$id" >/dev/null 2>&1 || fail "start of a running container succeeded" || return 1
	want "status after a second start" "$(st "$id" status)" running || return 1
	! rt delete "$id" >/dev/null 2>&1 || fail "delete of a running container succeeded without --force" || return 1
	want "status after delete without force" "$(st "$id" status)" running || return 1
	rt delete --force "$id" || return 1
	! rt state "$id" >/dev/null 2>&1 || fail "state answers after delete --force" || return 1
	# a bundle without config.json: an error, and no container
	mkdir -p "$W/empty"
	! rt create --bundle "$W/empty" "$id-x" </dev/null >/dev/null 2>&1 || fail "create without config.json succeeded" || return 1
	! rt state "$id-x" >/dev/null 2>&1 || fail "a failed create left a container" || return 1
}

# Hooks that fail (config.md): a failing prestart hook fails create and
# leaves no container; a failing poststart or poststop hook is a warning,
# and the lifecycle goes on.
ct_hooks_fail() {
	local id=$ID-f
	newb
	mkdir -p "$W/log"
	cfg '.hooks = {prestart: [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]}'
	! rt create --bundle "$B" "$id" </dev/null >"$W/c.log" 2>&1 || fail "create succeeded with a failing prestart hook" || return 1
	! rt state "$id" >/dev/null 2>&1 || fail "a failed create left a container" || return 1
	cfg '.process.args = ["sh", "-c", "sleep 0.5"] | .hooks = {
		poststart: [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]},
			{path: "/bin/sh", args: ["sh", "-c", "echo poststart2 >> \($A[0])/order"]}],
		poststop: [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]},
			{path: "/bin/sh", args: ["sh", "-c", "echo poststop2 >> \($A[0])/order"]}]}' "$W/log"
	create_bg "$id" || return 1
	rt start "$id" >"$W/s.log" 2>&1 || fail "start failed on a failing poststart hook: $(cat "$W/s.log")" || return 1
	wait_for 50 is_stopped "$id" || fail "did not stop" || return 1
	rt delete "$id" >"$W/d.log" 2>&1 || fail "delete failed on a failing poststop hook: $(cat "$W/d.log")" || return 1
	! rt state "$id" >/dev/null 2>&1 || fail "delete left the container" || return 1
	want "the hooks after a failing one ran" "$(cat "$W/log/order" 2>/dev/null | tr '\n' ' ')" "poststart2 poststop2 "
}

# Config values that map to nothing in the kernel must fail create
# (config.md: capabilities, rlimits), leaving no container.
ct_config_errors() {
	local id=$ID-x f
	for f in '.process.capabilities.bounding += ["CAP_NO_SUCH_THING"]' \
		'.process.rlimits += [{type: "RLIMIT_NO_SUCH_THING", soft: 1, hard: 1}]' \
		'.linux.namespaces += [{type: "no-such-namespace"}]' \
		'.root.path = "does-not-exist"'; do
		newb
		cfg "$f"
		! rt create --bundle "$B" "$id" </dev/null >"$W/c.log" 2>&1 || fail "create accepted: $f" || return 1
		! rt state "$id" >/dev/null 2>&1 || fail "a failed create left a container: $f" || return 1
		rm -rf "$B"
	done
}
