# What engines read from the runtime itself, called directly (no engine):
# --log-format json lines (containerd and podman read the last error from
# them), the error texts they match, features, state, ps --format json.
# Each runtime writes its own config.json with its own `spec`.

rtd() { "$RT_BIN" --root "$W/rtroot" "$@"; }

# rt_bundle ARGS...: $W/bundle with process.args, no terminal.
rt_bundle() {
	local args
	rm -rf "$W/bundle"; mkdir -p "$W/bundle"
	cp -a "$W/rootfs" "$W/bundle/rootfs"
	(cd "$W/bundle" && "$RT_BIN" spec) || return 1
	args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	jq ".process.args = $args | .process.terminal = false" "$W/bundle/config.json" > "$W/bundle/c" &&
		mv "$W/bundle/c" "$W/bundle/config.json"
}
rt_status() { rtd state "$1" 2>/dev/null | jq -r .status; }
rt_status_is() { [ "$(rt_status "$1")" = "$2" ]; }
rt_cleanup() { local c; for c in rtc1 rtc2 rtc3; do rtd delete --force "$c" >/dev/null 2>&1 || true; done; }

test_runtime_log_format_json() {
	local rc=0 line
	"$RT_BIN" --root "$W/rtroot" --log "$W/rt.json" --log-format json delete nosuch 2>/dev/null || rc=$?
	[ "$rc" -ne 0 ] || fail "delete of an unknown container succeeded"
	[ -s "$W/rt.json" ] || fail "nothing in the --log file"
	while IFS= read -r line; do
		echo "$line" | jq -e '(.level | type) == "string" and (.msg | type) == "string" and
			(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)$"))' >/dev/null ||
			fail "not a {level,msg,time RFC3339} JSON line: $line"
	done < "$W/rt.json"
	line=$(jq -r 'select(.level == "error") | .msg' "$W/rt.json" | tail -n 1)
	# containerd's shim: "does not exist" = the container is gone (not an error on delete)
	expect_contains "the error containerd reads" "$line" "does not exist"
}

test_runtime_error_texts() {
	local out rc
	rt_bundle true
	out=$(rtd state nosuch 2>&1) && fail "state of an unknown container succeeded"
	expect_contains "unknown container" "$out" "does not exist"
	rtd create --bundle "$W/bundle" rtc1 </dev/null >/dev/null 2>&1 || { rt_cleanup; fail "create failed"; }
	out=$(rtd create --bundle "$W/bundle" rtc1 </dev/null 2>&1) && { rt_cleanup; fail "a second create succeeded"; }
	expect_contains "duplicate" "$out" "already exists" || { rt_cleanup; return 1; }
	rtd start rtc1
	wait_for 10 rt_status_is rtc1 stopped || { rt_cleanup; fail "never stopped"; }
	out=$(rtd kill rtc1 KILL 2>&1) && rc=0 || rc=$?
	rt_cleanup
	[ "$rc" -ne 0 ] || fail "kill of a stopped container succeeded"
	# containerd's shim and buildkit: "container not running" = already exited
	expect_contains "kill of a stopped container" "$out" "container not running"
}

test_runtime_features() {
	local out
	out=$("$RT_BIN" features 2>&1) || fail "no features verb: $out"
	echo "$out" | jq -e '.ociVersionMin and .ociVersionMax and (.hooks | index("prestart")) and
		(.mountOptions | length > 0) and (.linux.namespaces | index("pid")) and
		(.linux.capabilities | index("CAP_SYS_ADMIN")) and .linux.cgroup and .linux.seccomp' >/dev/null ||
		fail "features lacks a field engines read: $(echo "$out" | head -c 300)"
}

test_runtime_state_json() {
	local st
	rt_bundle sleep 30
	rtd create --bundle "$W/bundle" rtc2 </dev/null >/dev/null 2>&1 || fail "create failed"
	st=$(rtd state rtc2)
	rtd delete --force rtc2 >/dev/null 2>&1
	echo "$st" | jq -e --arg b "$W/bundle" '.ociVersion and .id == "rtc2" and .status == "created" and
		(.pid | type) == "number" and .pid > 0 and .bundle == $b and
		(.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))' >/dev/null ||
		fail "state lacks what go-runc and podman read: $st"
}

test_runtime_ps_json() {
	local out
	rt_bundle sh -c 'sleep 30 & sleep 31'
	rtd run -d --bundle "$W/bundle" rtc3 </dev/null >/dev/null 2>&1 || fail "run -d failed"
	wait_for 10 sh -c "[ \$('$RT_BIN' --root '$W/rtroot' ps --format json rtc3 | jq length) -eq 2 ]"
	out=$(rtd ps --format json rtc3)
	rt_cleanup
	echo "$out" | jq -e 'type == "array" and length == 2 and all(.[]; type == "number")' >/dev/null ||
		fail "ps --format json: $out"
}
