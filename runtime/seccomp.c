#include "config.h"
/* Seccomp.  The parent compiles the filter with libseccomp and exports it as
 * classic BPF; the child loads that program with a bare seccomp(2) call, so
 * it needs neither libseccomp nor malloc between fork and exec.
 *
 * Because the program is loaded by us and not by seccomp_load(), the filter
 * flags (TSYNC, LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV) are not libseccomp
 * attributes here: they change nothing in the BPF and are passed to
 * seccomp(2) at load time. */

#include "runtime/seccomp.h"
#include "runtime/cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* The BPF program can hold at most BPF_MAXINSNS instructions; anything
 * bigger is rejected by the kernel anyway. */
#define MAX_INSNS 4096

struct rt_seccomp_plan {
	struct sock_filter *insns;
	unsigned short n_insns;
	unsigned int flags;
	bool notify;
};

static void ctx_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static const struct {
	const char *name;
	unsigned int flag;
} filter_flags[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
	{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

static int parse_flags(const struct rt_seccomp *s, unsigned int *out, struct rt_err *err)
{
	*out = 0;
	for (size_t i = 0; i < s->n_flags; i++) {
		size_t j;

		for (j = 0; j < RT_ARRAY_SIZE(filter_flags); j++)
			if (strcmp(s->flags[i], filter_flags[j].name) == 0)
				break;
		if (j == RT_ARRAY_SIZE(filter_flags))
			return rt_err_set(err, EINVAL, "linux.seccomp.flags: unknown flag \"%s\"",
					  s->flags[i]);
		*out |= filter_flags[j].flag;
	}
	return 0;
}

/* Map a spec action (+ errnoRet) to a libseccomp action value. */
static int action_value(enum rt_seccomp_action a, bool has_ret, uint32_t ret, uint32_t *out,
			const char *where, struct rt_err *err)
{
	if (has_ret && ret > 0xffff)
		return rt_err_set(err, EINVAL, "%s: errnoRet %u out of range (max 65535)", where,
				  ret);
	switch (a) {
	case RT_SECCOMP_KILL:
	case RT_SECCOMP_KILL_THREAD:
		*out = SCMP_ACT_KILL_THREAD;
		return 0;
	case RT_SECCOMP_KILL_PROCESS:
		*out = SCMP_ACT_KILL_PROCESS;
		return 0;
	case RT_SECCOMP_TRAP:
		*out = SCMP_ACT_TRAP;
		return 0;
	case RT_SECCOMP_ERRNO:
		*out = SCMP_ACT_ERRNO(has_ret ? ret : EPERM);
		return 0;
	case RT_SECCOMP_TRACE:
		/* errnoRet doubles as the message the tracer reads (runc does the same). */
		*out = SCMP_ACT_TRACE(has_ret ? ret : EPERM);
		return 0;
	case RT_SECCOMP_ALLOW:
		*out = SCMP_ACT_ALLOW;
		return 0;
	case RT_SECCOMP_LOG:
		*out = SCMP_ACT_LOG;
		return 0;
	case RT_SECCOMP_NOTIFY:
		*out = SCMP_ACT_NOTIFY;
		return 0;
	}
	return rt_err_set(err, EINVAL, "%s: unknown action %d", where, (int)a);
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64" -> token. */
static int add_arch(scmp_filter_ctx ctx, const char *name, struct rt_err *err)
{
	static const char prefix[] = "SCMP_ARCH_";
	char lower[64];
	const char *p = name;
	uint32_t token;
	size_t i;
	int r;

	if (strncmp(p, prefix, sizeof(prefix) - 1) == 0)
		p += sizeof(prefix) - 1;
	for (i = 0; p[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)p[i]);
	lower[i] = '\0';
	token = p[i] ? 0 : seccomp_arch_resolve_name(lower);
	if (token == 0)
		return rt_err_set(err, EINVAL, "linux.seccomp.architectures: unknown architecture \"%s\"",
				  name);
	r = seccomp_arch_add(ctx, token);
	if (r < 0 && r != -EEXIST)
		return rt_err_sys(err, -r, "linux.seccomp.architectures: cannot add \"%s\"", name);
	return 0;
}

static enum scmp_compare cmp_op(enum rt_seccomp_op op)
{
	switch (op) {
	case RT_SCMP_NE: return SCMP_CMP_NE;
	case RT_SCMP_LT: return SCMP_CMP_LT;
	case RT_SCMP_LE: return SCMP_CMP_LE;
	case RT_SCMP_EQ: return SCMP_CMP_EQ;
	case RT_SCMP_GE: return SCMP_CMP_GE;
	case RT_SCMP_GT: return SCMP_CMP_GT;
	case RT_SCMP_MASKED_EQ: return SCMP_CMP_MASKED_EQ;
	}
	return _SCMP_CMP_MIN;
}

static int arg_cmp(const struct rt_seccomp_arg *a, struct scmp_arg_cmp *out, const char *sys,
		   struct rt_err *err)
{
	if (a->index > 5)
		return rt_err_set(err, EINVAL, "linux.seccomp: syscall \"%s\": arg index %u out of range (0-5)",
				  sys, a->index);
	out->arg = a->index;
	out->op = cmp_op(a->op);
	if (out->op == _SCMP_CMP_MIN)
		return rt_err_set(err, EINVAL, "linux.seccomp: syscall \"%s\": unknown operator %d", sys,
				  (int)a->op);
	out->datum_a = a->value;
	out->datum_b = a->value_two;
	return 0;
}

/* libseccomp cannot combine two comparisons of the same argument in one
 * rule; like runc, such a rule becomes one rule per comparison (an OR). */
static bool args_repeat_index(const struct rt_seccomp_rule *rule)
{
	for (size_t i = 0; i < rule->n_args; i++)
		for (size_t j = i + 1; j < rule->n_args; j++)
			if (rule->args[i].index == rule->args[j].index)
				return true;
	return false;
}

static int add_one_syscall(scmp_filter_ctx ctx, const struct rt_seccomp_rule *rule, uint32_t action,
			   int nr, const char *sys, struct rt_err *err)
{
	struct scmp_arg_cmp cmps[6];
	int r;

	if (rule->n_args == 0) {
		r = seccomp_rule_add_array(ctx, action, nr, 0, NULL);
		goto out;
	}
	if (args_repeat_index(rule)) {
		for (size_t i = 0; i < rule->n_args; i++) {
			if ((r = arg_cmp(&rule->args[i], &cmps[0], sys, err)) < 0)
				return r;
			r = seccomp_rule_add_array(ctx, action, nr, 1, cmps);
			if (r < 0)
				goto out;
		}
		return 0;
	}
	if (rule->n_args > RT_ARRAY_SIZE(cmps))
		return rt_err_set(err, EINVAL, "linux.seccomp: syscall \"%s\": too many args (%zu)", sys,
				  rule->n_args);
	for (size_t i = 0; i < rule->n_args; i++)
		if ((r = arg_cmp(&rule->args[i], &cmps[i], sys, err)) < 0)
			return r;
	r = seccomp_rule_add_array(ctx, action, nr, (unsigned)rule->n_args, cmps);
out:
	if (r < 0)
		return rt_err_sys(err, -r, "linux.seccomp: cannot add rule for syscall \"%s\"", sys);
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct rt_seccomp_rule *rule, size_t idx,
		    uint32_t def_action, bool *notify, struct rt_err *err)
{
	char where[64];
	uint32_t action;
	int r;

	snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu]", idx);
	r = action_value(rule->action, rule->has_errno_ret, rule->errno_ret, &action, where, err);
	if (r < 0)
		return r;
	/* libseccomp refuses a rule that repeats the default action; it would
	 * be a no-op anyway. */
	if (action == def_action)
		return 0;
	for (size_t i = 0; i < rule->n_names; i++) {
		int nr = seccomp_syscall_resolve_name(rule->names[i]);

		/* Profiles list syscalls of newer kernels and other arches;
		 * unknown names are skipped, as runc and crun do. */
		if (nr == __NR_SCMP_ERROR)
			continue;
		r = add_one_syscall(ctx, rule, action, nr, rule->names[i], err);
		if (r < 0)
			return r;
		if (action == SCMP_ACT_NOTIFY)
			*notify = true;
	}
	return 0;
}

/* Export the compiled program through a memfd and keep a private copy. */
static int export_bpf(scmp_filter_ctx ctx, struct rt_seccomp_plan *p, struct rt_err *err)
{
	_cleanup_close_ int fd = memfd_create("hull-seccomp", MFD_CLOEXEC);
	struct stat st;
	ssize_t n;
	int r;

	if (fd < 0)
		return rt_err_sys(err, errno, "seccomp: memfd_create");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return rt_err_sys(err, -r, "seccomp: cannot export the BPF program");
	if (fstat(fd, &st) < 0)
		return rt_err_sys(err, errno, "seccomp: fstat");
	if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0)
		return rt_err_set(err, EINVAL, "seccomp: exported program has bad size %lld",
				  (long long)st.st_size);
	if (st.st_size / sizeof(struct sock_filter) > MAX_INSNS)
		return rt_err_set(err, E2BIG, "seccomp: filter too large (%lld instructions, max %d)",
				  (long long)(st.st_size / sizeof(struct sock_filter)), MAX_INSNS);
	p->insns = malloc((size_t)st.st_size);
	if (!p->insns)
		return rt_err_sys(err, ENOMEM, "seccomp");
	n = pread(fd, p->insns, (size_t)st.st_size, 0);
	if (n != st.st_size)
		return rt_err_sys(err, n < 0 ? errno : EIO, "seccomp: reading the exported program");
	p->n_insns = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	return 0;
}

static int build_filter(const struct rt_seccomp *s, struct rt_seccomp_plan *p, struct rt_err *err)
{
	_cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
	uint32_t def;
	int r;

	r = action_value(s->default_action, s->has_default_errno_ret, s->default_errno_ret, &def,
			 "linux.seccomp.defaultAction", err);
	if (r < 0)
		return r;
	if (def == SCMP_ACT_NOTIFY)
		return rt_err_set(err, EINVAL,
				  "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
	ctx = seccomp_init(def);
	if (!ctx)
		return rt_err_set(err, EINVAL, "linux.seccomp: seccomp_init failed (default action %#x)",
				  def);
	/* hull sets no_new_privs itself when the spec asks for it. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return rt_err_sys(err, -r, "linux.seccomp: cannot clear the NNP attribute");
	for (size_t i = 0; i < s->n_architectures; i++)
		if ((r = add_arch(ctx, s->architectures[i], err)) < 0)
			return r;
	for (size_t i = 0; i < s->n_rules; i++)
		if ((r = add_rule(ctx, &s->rules[i], i, def, &p->notify, err)) < 0)
			return r;
	return export_bpf(ctx, p, err);
}

int rt_seccomp_plan_new(const struct rt_seccomp *s, struct rt_seccomp_plan **out,
			struct rt_err *err)
{
	struct rt_seccomp_plan *p;
	int r;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return rt_err_sys(err, ENOMEM, "seccomp");
	r = parse_flags(s, &p->flags, err);
	if (r == 0)
		r = build_filter(s, p, err);
	if (r < 0) {
		rt_seccomp_plan_free(p);
		return r;
	}
	if (p->notify) {
		p->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* The kernel refuses TSYNC with a listener unless told to
		 * report a sync failure as ESRCH. */
		if (p->flags & SECCOMP_FILTER_FLAG_TSYNC)
			p->flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	} else {
		/* WAIT_KILLABLE_RECV only means something for a listener and
		 * the kernel rejects it without one. */
		p->flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	}
	*out = p;
	return 0;
}

void rt_seccomp_plan_free(struct rt_seccomp_plan *p)
{
	if (!p)
		return;
	free(p->insns);
	free(p);
}

bool rt_seccomp_plan_has_notify(const struct rt_seccomp_plan *p)
{
	return p && p->notify;
}

int rt_seccomp_plan_load(const struct rt_seccomp_plan *p, int *listener_fd, struct rt_err *err)
{
	struct sock_fprog prog = {
		.len = p->n_insns,
		.filter = p->insns,
	};
	long r;

	if (listener_fd)
		*listener_fd = -1;
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
	if (r < 0)
		return rt_err_sys(err, errno, "seccomp: cannot load the filter (flags %#x)", p->flags);
	if (p->notify && listener_fd)
		*listener_fd = (int)r;
	else if (p->notify)
		close((int)r);
	return 0;
}

static int send_rest(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int rt_seccomp_send_listener(const char *listener_path, const char *state_json, int listener_fd,
			     struct rt_err *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	size_t len = strlen(state_json);
	struct iovec iov = { .iov_base = (void *)state_json, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int r;

	if (strlen(listener_path) >= sizeof(addr.sun_path))
		return rt_err_set(err, ENAMETOOLONG, "linux.seccomp.listenerPath: \"%s\" is too long",
				  listener_path);
	if (len == 0)
		return rt_err_set(err, EINVAL, "seccomp listener: empty state");
	strcpy(addr.sun_path, listener_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return rt_err_sys(err, errno, "seccomp listener: socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return rt_err_sys(err, errno, "seccomp listener: cannot connect to \"%s\"",
				  listener_path);
	memset(ctl.buf, 0, sizeof(ctl.buf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &listener_fd, sizeof(int));
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return rt_err_sys(err, errno, "seccomp listener: sendmsg to \"%s\"", listener_path);
	/* A stream socket may take the state in pieces; the fd went with the first. */
	r = send_rest(fd, state_json + n, len - (size_t)n);
	if (r < 0)
		return rt_err_sys(err, -r, "seccomp listener: send to \"%s\"", listener_path);
	return 0;
}
