# Setting the engines up and tearing them down (sourced by run.sh only).

# The runtime wrapper, the network namespace, the busybox rootfs and its tar.
setup_common() {
	local r=$W/rootfs a
	mkdir -p "$W/rt" "$r/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/root" "$r/mnt" || return 1
	cat > "$RT" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$*" >> "$W/rt.log"
	exec "$RT_BIN" "\$@"
	EOF
	chmod 755 "$RT"
	cp "$BUSYBOX" "$r/bin/busybox" || return 1
	for a in $("$BUSYBOX" --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$r/etc/passwd"
	printf 'root:x:0:\nnobody:x:65534:\n' > "$r/etc/group"
	tar -C "$r" -cf "$W/rootfs.tar" . || return 1
	ip netns add "$NETNS" || return 1
	ip -n "$NETNS" link set lo up
	# Files some engines write outside their roots: removed at the end if
	# this run made them.
	[ -e /etc/docker/key.json ] || made_docker_key=1
	[ -e /run/containerd ] || made_run_containerd=1
	return 0
}

setup_podman() {
	local d=$W/podman
	command -v podman >/dev/null || { echo "podman is not installed"; return 1; }
	mkdir -p "$d/cni" "$d/xdg" "$d/tmp"
	cat > "$d/containers.conf" <<-EOF
	[containers]
	# root here lacks CAP_SYS_RESOURCE: podman's nofile 1048576 cannot be set
	default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
	log_driver = "k8s-file"
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	events_logfile_path = "$d/events.log"
	tmp_dir = "$d/tmp"
	volume_path = "$d/volumes"
	runtime = "$ENGINES_RUNTIME"
	runtime_supports_json = ["crun", "runc", "hull"]
	[engine.runtimes]
	$ENGINES_RUNTIME = ["$RT"]
	[network]
	network_backend = "cni"
	cni_plugin_dirs = ["/usr/lib/cni"]
	network_config_dir = "$d/cni"
	EOF
	cat > "$d/storage.conf" <<-EOF
	[storage]
	driver = "overlay"
	graphroot = "$d/root"
	runroot = "$d/run"
	EOF
	echo 'unqualified-search-registries = []' > "$d/registries.conf"
	# podman's default network, with the address leases kept under $W
	cat > "$d/cni/87-podman.conflist" <<-EOF
	{"cniVersion": "0.4.0", "name": "podman", "plugins": [
	  {"type": "bridge", "bridge": "cni-podman0", "isGateway": true, "ipMasq": true,
	   "hairpinMode": true, "ipam": {"type": "host-local", "dataDir": "$d/ipam",
	   "routes": [{"dst": "0.0.0.0/0"}],
	   "ranges": [[{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]]}},
	  {"type": "portmap", "capabilities": {"portMappings": true}},
	  {"type": "firewall", "backend": "iptables"},
	  {"type": "tuning"}]}
	EOF
	pm import - localhost/hbb:latest < "$W/rootfs.tar" >/dev/null
}

setup_docker() {
	local d=$W/docker name
	command -v dockerd >/dev/null || { echo "dockerd is not installed"; return 1; }
	mkdir -p "$d/cli"
	name=$(docker_rt_name)
	cat > "$d/daemon.json" <<-EOF
	{"runtimes": {"$name": {"path": "$RT"}},
	 "exec-opts": ["native.cgroupdriver=cgroupfs"],
	 "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 1024, "Soft": 1024}},
	 "storage-driver": "overlay2", "log-level": "warn"}
	EOF
	nsenter --net="/run/netns/$NETNS" dockerd --config-file "$d/daemon.json" --data-root "$d/data" \
		--exec-root "$d/exec" --pidfile "$d/dockerd.pid" -H "unix://$d/docker.sock" \
		>"$d/dockerd.log" 2>&1 </dev/null &
	echo $! > "$d/started.pid"  # nsenter execs: the daemon itself
	wait_for 60 dk version || { tail -n 5 "$d/dockerd.log"; return 1; }
	dk import - hbb:latest < "$W/rootfs.tar" >/dev/null
}

# An OCI image archive of the rootfs (one uncompressed layer), for ctr.
make_oci_archive() {
	local l=$W/containerd/layout lh ls ch cs mh ms
	blob() { local h; h=$(sha256sum "$1" | cut -d' ' -f1); mv "$1" "$l/blobs/sha256/$h"; echo "$h"; }
	mkdir -p "$l/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$l/oci-layout"
	cp "$W/rootfs.tar" "$l/layer"
	ls=$(stat -c %s "$l/layer"); lh=$(blob "$l/layer")
	jq -n --arg d "sha256:$lh" '{architecture:"amd64",os:"linux",
		config:{Cmd:["/bin/sh"],Env:["PATH=/bin"]},rootfs:{type:"layers",diff_ids:[$d]}}' > "$l/config"
	cs=$(stat -c %s "$l/config"); ch=$(blob "$l/config")
	jq -n --arg c "sha256:$ch" --argjson cs "$cs" --arg l "sha256:$lh" --argjson ls "$ls" \
		'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
		  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},
		  layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar",digest:$l,size:$ls}]}' > "$l/manifest"
	ms=$(stat -c %s "$l/manifest"); mh=$(blob "$l/manifest")
	jq -n --arg m "sha256:$mh" --argjson ms "$ms" \
		'{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",
		  digest:$m,size:$ms,annotations:{"org.opencontainers.image.ref.name":"localhost/hbb:latest"}}]}' \
		> "$l/index.json"
	tar -C "$l" -cf "$W/containerd/image.tar" .
}

setup_containerd() {
	local d=$W/containerd
	command -v containerd >/dev/null || { echo "containerd is not installed"; return 1; }
	mkdir -p "$d/runc-root"
	cat > "$d/config.toml" <<-EOF
	version = 2
	root = "$d/root"
	state = "$d/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$d/containerd.sock"
	[ttrpc]
	  address = "$d/containerd.sock.ttrpc"
	[debug]
	  level = "warn"
	EOF
	nsenter --net="/run/netns/$NETNS" containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 </dev/null &
	echo $! > "$d/started.pid"  # nsenter execs: the daemon itself
	wait_for 30 ct version || { tail -n 5 "$d/containerd.log"; return 1; }
	make_oci_archive || return 1
	ct image import "$d/image.tar" >/dev/null
}

# After each test: what it left of its engine's containers.
cleanup_after_test() {
	case $1 in
	podman) [ -n "${engine_err[podman]:-}" ] || pm rm -af -t 0 >/dev/null 2>&1 ;;
	docker) [ -n "${engine_err[docker]:-}" ] || { local ids; ids=$(dk ps -aq 2>/dev/null)
		[ -z "$ids" ] || dk rm -f $ids >/dev/null 2>&1; } ;;
	containerd) [ -n "${engine_err[containerd]:-}" ] || ct_cleanup ;;
	rootless) cleanup_rootless 2>/dev/null ;;
	esac
	tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
	true
}

ct_cleanup() {
	local c
	for c in $(ct task ls -q 2>/dev/null); do
		ct task kill -s KILL "$c" >/dev/null 2>&1
		wait_for 10 sh -c "! ctr --address '$W/containerd/containerd.sock' -n $CTR_NS task ls -q | grep -qx '$c'" ||
			ct task delete -f "$c" >/dev/null 2>&1
		ct task delete "$c" >/dev/null 2>&1
	done
	for c in $(ct container ls -q 2>/dev/null); do ct container delete "$c" >/dev/null 2>&1; done
}

# stop_pid FILE: end a daemon this run started (TERM, then KILL).
stop_pid() {
	local pid
	[ -s "$1" ] || return 0
	pid=$(cat "$1")
	kill -TERM "$pid" 2>/dev/null || return 0
	wait_for 30 sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
	wait_for 5 sh -c "! kill -0 $pid"
}

teardown_all() {
	local m
	if [ -f "$W/podman/containers.conf" ]; then
		pm rm -af -t 0 >/dev/null 2>&1
		pm volume rm -af >/dev/null 2>&1
	fi
	if [ -S "$W/docker/docker.sock" ]; then
		cleanup_after_test docker
		stop_pid "$W/docker/dockerd.pid"
	fi
	stop_pid "$W/docker/started.pid"
	if [ -S "$W/containerd/containerd.sock" ]; then
		ct_cleanup
		ct image rm localhost/hbb:latest >/dev/null 2>&1
	fi
	stop_pid "$W/containerd/started.pid"
	declare -F teardown_rootless >/dev/null && teardown_rootless
	tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
	# engines' overlay, shm and netns mounts under $W, deepest first
	for m in $(awk -v w="$W" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	ip netns del "$NETNS" 2>/dev/null
	rm -rf "$W"
	rmdir /var/lib/hull-test 2>/dev/null
	[ -n "${made_docker_key:-}" ] && { rm -f /etc/docker/key.json; rmdir /etc/docker 2>/dev/null; }
	# only empty directories: another user of containerd may be running
	[ -n "${made_run_containerd:-}" ] && rmdir /run/containerd/s /run/containerd/fifo \
		/run/containerd/runc /run/containerd 2>/dev/null
	true
}
