/* hull: global flags, the verb table, and the one place errors are printed. */
#include "config.h"
#include "cmd/cmd.h"
#include "microvm/vmm.h"
#include "runtime/log.h"
#include "runtime/state.h"
#include "runtime/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cmd_verb verbs[] = {
	{ "create", cmd_create, "create [--bundle DIR] [--console-socket SOCK] [--pid-file FILE] "
	  "[--pidfd-socket SOCK] [--no-pivot] [--no-new-keyring] [--preserve-fds N] "
	  "[--vm [--kernel FILE]] ID",
	  "create a container from an OCI bundle (--vm: in a KVM microVM); it waits for start "
	  "(--no-subreaper is accepted and ignored, as runc's)" },
	{ "start", cmd_start, "start ID", "run the user process of a created container" },
	{ "run", cmd_run, "run [--bundle DIR] [--console-socket SOCK] [--pid-file FILE] "
	  "[--pidfd-socket SOCK] [--detach] [--keep] [--no-pivot] [--no-new-keyring] "
	  "[--preserve-fds N] [--no-subreaper] [--vm [--kernel FILE]] ID\n"
	  "       hull run --image REF [--name ID] [--store DIR] [--vm [--kernel FILE]] [-- CMD [ARG...]]",
	  "create and start a container (--image: from a stored image, on an overlay of it "
	  "unpacked once and shared; with --vm the guest boots the image's cached erofs disk); "
	  "without --detach wait and exit with its status" },
	{ "state", cmd_state, "state ID", "print the runtime-spec state of a container as JSON" },
	{ "kill", cmd_kill, "kill [--all] ID [SIGNAL]",
	  "send a signal (name or number, default TERM) to the container's init" },
	{ "delete", cmd_delete, "delete [--force] ID", "delete a stopped (or, with --force, any) container" },
	{ "exec", cmd_exec, "exec [--process FILE] [-t|--tty] [--detach] [--cwd DIR] [--env K=V]... "
	  "[--user UID[:GID]] [--cap CAP]... [--no-new-privs] [--pid-file FILE] "
	  "[--console-socket SOCK] [--preserve-fds N] ID [CMD [ARG...]]",
	  "run a new process in a running container (--additional-gids is refused: use "
	  "--process; runc's --apparmor, --process-label and --cgroup are accepted and ignored; "
	  "in a VM container the guest's agent runs it, over vsock)" },
	{ "list", cmd_list, "list [--format table|json] [--quiet]", "list containers" },
	{ "ps", cmd_ps, "ps [--format table|json] ID [PS_ARGS...]", "show the container's processes" },
	{ "pause", cmd_pause, "pause ID", "freeze every process of a container" },
	{ "resume", cmd_resume, "resume ID", "thaw a paused container" },
	{ "update", cmd_update, "update [--resources FILE|-] [--memory SIZE] [--memory-reservation SIZE] "
	  "[--memory-swap SIZE] [--cpu-share N] [--cpu-period US] [--cpu-quota US] "
	  "[--cpu-rt-period US] [--cpu-rt-runtime US] [--cpuset-cpus LIST] [--cpuset-mems LIST] "
	  "[--pids-limit N] [--blkio-weight N] [--kernel-memory SIZE] [--kernel-memory-tcp SIZE] ID",
	  "change the resource limits of a live container (flags override the JSON; "
	  "--l3-cache-schema and --mem-bw-schema are refused: no Intel RDT)" },
	{ "events", cmd_events, "events [--stats] [--interval DURATION] ID",
	  "print resource stats and OOM events as JSON lines until the container stops" },
	{ "jail", cmd_jail, "jail (--rootfs DIR | --ro-host) [--tmpfs DIR]... [--bind SRC:DST[:ro]]... "
	  "[--net none|host|veth] [--lib-dir DIR] [--memory SIZE] [--cpus N] [--pids N] [--uid UID[:GID]] "
	  "[--seccomp default|unconfined|FILE] [--cap-add CAP]... [--cap-drop CAP]... [--cwd DIR] "
	  "[--hostname NAME] -- CMD [ARG...]",
	  "run one service in a jail built from flags, in the foreground; exits with its status" },
	{ "ct", cmd_ct, "ct [--lib-dir DIR] VERB ...\n"
	  "  ct create NAME (--rootfs DIR | --image REF) [--hostname H] [--ip A.B.C.D[/P]|auto|none]\n"
	  "            [--memory SIZE] [--cpus N] [--cpu-weight W] [--pids N] [--bind SRC:DST[:ro]]...\n"
	  "            [--vm]   (a microVM: --ip on virtio-net, --bind directories over virtio-fs)\n"
	  "  ct start NAME | stop [--timeout SECS] NAME | restart [--timeout SECS] NAME\n"
	  "  ct enter NAME | exec NAME -- CMD [ARG...]\n"
	  "  ct set NAME [--memory SIZE] [--cpus N] [--cpu-weight W] [--pids N]\n"
	  "  ct list [--json] | status [--json] NAME | destroy [--force] NAME\n"
	  "The config is saved in LIB/ct/NAME/ct.json (LIB: --lib-dir, $HULL_LIB_DIR or /var/lib/hull);\n"
	  "the container runs as ct-NAME under --root, its /sbin/init as PID 1, on the hull0 bridge\n"
	  "($HULL_SUBNET, default 10.88.0.0/16; $HULL_SUBNET6, default fd00:88::/64)",
	  "OpenVZ-style system containers: own init, hostname, address on hull0, live limits" },
	{ "spec", cmd_spec, "spec [--bundle DIR] [--rootless]", "write a default config.json" },
	{ "features", cmd_features, "features", "print the runtime-spec features document" },
	{ "image", cmd_image, "image [--store DIR] import DIR|FILE [--name REF] | pull SRC [--name REF] | ls | inspect REF | "
	  "rm REF | unpack REF DIR | bundle [--rootless] REF DIR | disk REF",
	  "OCI images: import (layout, OCI archive, docker-archive), pull (skopeo), list, "
	  "inspect, remove, unpack, bundle, disk (a read-only erofs VM disk)" },
	{ "vmm", cmd_vmm, "vmm " VMM_USAGE,
	  "boot a KVM microVM and run CMD in it (root from DIR), in the foreground; exits with "
	  "its status. --dump-initrd FILE writes the initramfs and exits; --kvm-fd, --kernel-fd, "
	  "--initrd-fd, --tap-fd N and --fs-fd FD:TAG take inputs already opened (as hull passes them "
	  "in VM mode); --fs SRC:DST[:ro] shares a host directory at DST over virtio-fs (virtiofsd)" },
};

static const char global_usage[] =
	"usage: hull [global options] COMMAND [options] [args]\n"
	"\n"
	"Global options:\n"
	"  --root DIR             state directory (default " RT_DEFAULT_ROOT ", or\n"
	"                         $XDG_RUNTIME_DIR/hull for an unprivileged user or\n"
	"                         the root of a user namespace, as under rootless podman)\n"
	"  --log FILE             write logs and errors to FILE\n"
	"  --log-format text|json log line format (default text)\n"
	"  --debug                log debug messages\n"
	"  --systemd-cgroup       linux.cgroupsPath is slice:prefix:name; systemd makes\n"
	"                         the scope over D-Bus (an error when systemd does not run)\n"
	"  --rootless true|false|auto  accepted for compatibility\n"
	"  --criu PATH            accepted and ignored (no checkpoint/restore)\n"
	"  --vm                   create and run default to a KVM microVM unless the\n"
	"                         annotation org.hull.isolation is container (for\n"
	"                         engines that pass runtime flags before the verb only)\n"
	"  --version, --help\n"
	"\n"
	"Commands:\n";

static void print_global_usage(FILE *f)
{
	fputs(global_usage, f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].help);
	fputs("\nRun 'hull COMMAND --help' for a command's options.\n", f);
}

void cmd_usage(const char *verb, bool to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (!strcmp(verbs[i].name, verb)) {
			fprintf(f, "usage: hull %s\n\n%s\n", verbs[i].usage, verbs[i].help);
			return;
		}
	}
}

int cmd_strv_push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));

	if (!nv)
		return -1;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

const char *cmd_bad_option(char **argv)
{
	static char buf[256];
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	/* getopt has stepped past the refused option (or the one missing its
	 * value): that is the word to show. */
	snprintf(buf, sizeof(buf), "unknown option or missing value: %s", arg);
	return buf;
}

int cmd_usage_error(struct rt_err *err, const char *verb, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rt_err_set(err, EINVAL, "%s: %s (see 'hull %s --help')", verb, msg, verb);
	return -1;
}

static int parse_globals(int argc, char **argv, struct cmd_globals *g)
{
	enum { O_ROOT = 256, O_LOG, O_LOG_FORMAT, O_DEBUG, O_SYSTEMD, O_ROOTLESS, O_CRIU, O_VM, O_VERSION, O_HELP };
	static const struct option opts[] = {
		{ "root", required_argument, NULL, O_ROOT },
		{ "log", required_argument, NULL, O_LOG },
		{ "log-format", required_argument, NULL, O_LOG_FORMAT },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "systemd-cgroup", no_argument, NULL, O_SYSTEMD },
		{ "rootless", required_argument, NULL, O_ROOTLESS },
		{ "criu", required_argument, NULL, O_CRIU },
		{ "vm", no_argument, NULL, O_VM },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* "+": stop at the verb; _only: engines also pass -root style flags. */
	while ((c = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (c) {
		case O_ROOT: g->root = optarg; break;
		case O_LOG: g->log = optarg; break;
		case O_LOG_FORMAT: g->log_format = optarg; break;
		case O_DEBUG: g->debug = true; break;
		case O_SYSTEMD: g->systemd_cgroup = true; break;
		case O_ROOTLESS: g->rootless = strcmp(optarg, "false") != 0; break;
		case O_CRIU: break;
		case O_VM: g->vm_default = true; break;
		case 'v':
		case O_VERSION:
			printf("hull version %s\nspec: 1.2.0\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
		case O_HELP:
			print_global_usage(stdout);
			exit(0);
		default:
			print_global_usage(stderr);
			exit(2);
		}
	}
	return optind;
}

/* root's state lives in /run/hull; an unprivileged user's (rootless) in
 * $XDG_RUNTIME_DIR/hull, or /tmp/hull-UID, as runc does.  A uid 0 that is
 * only root of a user namespace (rootless podman) cannot write /run/hull:
 * it gets the XDG path too, unless USER says it is the real root. */
static const char *default_root(void)
{
	static char buf[4096];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *user = getenv("USER");

	if (geteuid() == 0 &&
	    !(xdg && xdg[0] == '/' && rt_in_partial_userns() && !(user && strcmp(user, "root") == 0)))
		return RT_DEFAULT_ROOT;
	if (xdg && xdg[0] == '/')
		snprintf(buf, sizeof(buf), "%s/hull", xdg);
	else
		snprintf(buf, sizeof(buf), "/tmp/hull-%u", (unsigned)geteuid());
	return buf;
}

int main(int argc, char **argv)
{
	struct cmd_globals g = { .root = default_root(), .log_format = "text" };
	struct rt_err err = {0};
	const struct cmd_verb *v = NULL;
	int first, rc;

	first = parse_globals(argc, argv, &g);
	if (first >= argc) {
		print_global_usage(stderr);
		return 2;
	}
	if (strcmp(g.log_format, "text") && strcmp(g.log_format, "json")) {
		fprintf(stderr, "hull: --log-format %s: expected text or json\n", g.log_format);
		return 2;
	}
	if (rt_log_open(g.log, !strcmp(g.log_format, "json"), g.debug, &err) < 0) {
		fprintf(stderr, "hull: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, argv[first]))
			v = &verbs[i];
	if (!v) {
		fprintf(stderr, "hull: unknown command \"%s\" (see 'hull --help')\n", argv[first]);
		return 2;
	}
	/* --help anywhere among the verb's options (not in an exec'd command). */
	for (int i = first + 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cmd_usage(v->name, false);
			return 0;
		}
	}
	optind = 1;
	opterr = 0;   /* the verb reports a bad option itself, once */
	rc = v->fn(&g, argc - first, argv + first, &err);
	if (rc < 0) {
		/* The one place an error is printed. */
		fprintf(stderr, "hull: %s\n", err.msg);
		if (rt_log_to_file())
			rt_log(RT_LOG_ERROR, "%s", err.msg);
		/* -N: an error that has its own status (exec: 127, command not found) */
		return rc < -1 && rc >= -255 ? -rc : 1;
	}
	return rc;
}
