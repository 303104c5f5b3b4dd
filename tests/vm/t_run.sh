# hull run --vm and org.hull.isolation=vm: the container path with the VMM
# as the container's process.

# bundle NAME JQ-FILTER: a bundle whose config is `hull spec` through jq.
bundle() {
	local b=$work/bundle-$1
	rm -rf "$b" && mkdir -p "$b"
	cp -a "$work/rootfs" "$b/rootfs"
	(cd "$b" && "$HULL" spec && jq "$2" config.json > c.json && mv c.json config.json)
	echo "$b"
}

hrun() {
	timeout -k 10 300 "$HULL" --root "$work/state" "$@"
}

test_run_vm_echo_and_status() {
	b=$(bundle echo '.process.args = ["sh", "-c", "echo in the vm; exit 3"]')
	st=0
	out=$(hrun run --vm --bundle "$b" vm-echo) || st=$?
	expect_eq "output" "$out" "in the vm"
	expect_eq "status" "$st" 3
	[ ! -e "$work/state/vm-echo" ] || fail "state left behind"
}

test_run_vm_annotation() {
	b=$(bundle anno '.process.args = ["cat", "/proc/cpuinfo"] |
		.annotations = {"org.hull.isolation": "vm"}')
	out=$(hrun run --bundle "$b" vm-anno)
	# The host's /proc/cpuinfo under TCG says "QEMU"; the guest's is KVM's.
	case $out in *processor*) ;; *) fail "no cpuinfo: $out" ;; esac
	b=$(bundle anno2 '.annotations = {"org.hull.isolation": "vmm"}')
	st=0
	err=$(hrun run --bundle "$b" vm-anno2 2>&1) || st=$?
	case $err in *"org.hull.isolation is 'vmm'"*) ;; *) fail "error: $err" ;; esac
}

test_run_vm_limits() {
	b=$(bundle lim '.process.args = ["sh", "-c", "nproc; grep MemTotal /proc/meminfo"] |
		.linux.resources = {"memory": {"limit": 335544320},
				    "cpu": {"quota": 200000, "period": 100000}}')
	out=$(hrun run --vm --bundle "$b" vm-lim)
	expect_eq "nproc" "$(echo "$out" | head -n 1)" 2
	kb=$(echo "$out" | awk '/MemTotal/ {print $2}')
	# 320 MiB limit - 32 MiB VMM overhead = 288 MiB of guest RAM.
	[ "$kb" -gt $((200 * 1024)) ] && [ "$kb" -le $((288 * 1024)) ] ||
		fail "MemTotal $kb kB"
}

test_run_vm_memory_too_small() {
	b=$(bundle small '.linux.resources = {"memory": {"limit": 33554432}}')
	st=0
	err=$(hrun run --vm --bundle "$b" vm-small 2>&1) || st=$?
	expect_eq "status" "$st" 1
	case $err in *"memory.limit: 32 MiB is too small for a microVM"*) ;; *) fail "error: $err" ;; esac
	[ ! -e "$work/state/vm-small" ] || fail "state left behind"
}

test_run_vm_missing_kernel() {
	b=$(bundle nok '.')
	st=0
	err=$(hrun run --vm --kernel /no/kernel --bundle "$b" vm-nok 2>&1) || st=$?
	expect_eq "status" "$st" 1
	case $err in *"guest kernel /no/kernel: No such file"*) ;; *) fail "error: $err" ;; esac
}

test_run_vm_missing_kvm() {
	b=$(bundle nokvm '.')
	st=0
	# /dev without kvm in a private mount namespace.
	err=$(unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh \
		timeout 60 "$HULL" --root "$work/state" run --vm --bundle "$b" vm-nokvm 2>&1) || st=$?
	expect_eq "status" "$st" 1
	case $err in *"/dev/kvm"*"No such file"*) ;; *) fail "error: $err" ;; esac
}

test_create_start_state_kill_delete_vm() {
	b=$(bundle life '.process.args = ["sh", "-c", "trap \"exit 7\" TERM; echo ready; while :; do sleep 1; done"]')
	hrun create --vm --bundle "$b" vm-life > "$work/life.out" 2>&1
	pid=$(hrun state vm-life | jq -r .pid)
	st=$(hrun state vm-life | jq -r .status)
	expect_eq "status" "$st" created
	hrun start vm-life
	# The container's process is the VMM.
	exe=$(readlink "/proc/$pid/exe")
	case $exe in */hull-vmm) ;; *) fail "pid $pid runs $exe" ;; esac
	expect_eq "status" "$(hrun state vm-life | jq -r .status)" running
	expect_eq "isolation" "$(hrun state vm-life | jq -r '.annotations["org.hull.isolation"]')" vm
	for _ in $(seq 300); do
		grep -q ready "$work/life.out" && break
		sleep 1
	done
	grep -q ready "$work/life.out" || fail "the guest never ran the workload"
	expect_eq "exec" "$(hrun exec vm-life echo in-guest)" in-guest   # more: t_exec_vm.sh
	hrun kill vm-life TERM
	for _ in $(seq 120); do
		[ "$(hrun state vm-life | jq -r .status)" = stopped ] && break
		sleep 1
	done
	expect_eq "status" "$(hrun state vm-life | jq -r .status)" stopped
	hrun delete vm-life
	[ ! -e "$work/state/vm-life" ] || fail "state left behind"
}

test_run_vm_user_env_cwd_stdin() {
	b=$(bundle user '.process.args = ["sh", "-c", "id -u; id -g; pwd; echo $GREETING; cat"] |
		.process.user = {"uid": 1000, "gid": 1000} | .process.cwd = "/home/alice" |
		.process.env += ["GREETING=hello there"]')
	out=$(echo "from stdin" | hrun run --vm --bundle "$b" vm-user)
	expect_eq "output" "$out" "$(printf '1000\n1000\n/home/alice\nhello there\nfrom stdin')"
}

# process.rlimits, noNewPrivileges and capabilities reach the guest's
# workload (applied by the guest init before exec); without them the
# workload has root's full set and no no_new_privs.
test_run_vm_rlimits_nnp_caps() {
	local caps='["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE"]' out
	b=$(bundle sec '.process.args = ["sh", "-c", "ulimit -n; ulimit -Hn; grep -E \"^(NoNewPrivs|CapEff|CapPrm|CapBnd|CapInh):\" /proc/self/status"] |
		.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}] |
		.process.noNewPrivileges = true |
		.process.capabilities = {"bounding": '"$caps"', "effective": '"$caps"',
					 "permitted": '"$caps"'}')
	out=$(hrun run --vm --bundle "$b" vm-sec | tr -s ' \t' ' ')
	# CHOWN 0, KILL 5, NET_BIND_SERVICE 10
	expect_eq "limits and status" "$out" "$(printf '321\n654\nCapInh: 0000000000000000\nCapPrm: 0000000000000421\nCapEff: 0000000000000421\nCapBnd: 0000000000000421\nNoNewPrivs: 1')"
	b=$(bundle nosec '.process.args = ["sh", "-c", "grep -E \"^(NoNewPrivs|CapEff):\" /proc/self/status"] |
		del(.process.capabilities) | del(.process.rlimits) | .process.noNewPrivileges = false')
	out=$(hrun run --vm --bundle "$b" vm-nosec | tr -s ' \t' ' ')
	expect_eq "defaults" "$out" "$(printf 'CapEff: 000001ffffffffff\nNoNewPrivs: 0')"
}
