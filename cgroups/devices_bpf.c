#include "config.h"
/* Cgroups: the device allow/deny list on cgroup v2, where it is an eBPF
 * program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup.
 *
 * The program is assembled here from the rules, with the raw bpf(2) syscall
 * and no libbpf.  Semantics are those of the v1 devices controller as an
 * OCI list describes it: rules apply in order, a later rule overrides an
 * earlier one.  The program therefore walks the rules last to first, and
 * because one request can ask for several access bits at once ("rw"), it
 * decides per bit: the first (= last-listed) rule that matches the device
 * and covers a bit decides that bit.  Once every requested bit is decided
 * the program stops; a bit no rule covers is denied. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "runtime/cleanup.h"

/* ------------------------------------------------------------ assembler */

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define MOV_REG(dst, src) INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV_IMM(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define ALU_IMM(op, dst, imm) INSN(BPF_ALU64 | (op) | BPF_K, dst, 0, 0, imm)
#define ALU_REG(op, dst, src) INSN(BPF_ALU64 | (op) | BPF_X, dst, src, 0, 0)
/* 32-bit compare: majors and minors are u32 in the context, and a 64-bit
 * compare would sign-extend an immediate above INT32_MAX. */
#define JNE32_IMM(dst, imm, off) INSN(BPF_JMP32 | BPF_JNE | BPF_K, dst, 0, off, imm)
#define JEQ_REG(dst, src, off) INSN(BPF_JMP | BPF_JEQ | BPF_X, dst, src, off, 0)
#define EXIT_INSN() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

enum { R0, R1, R2, R3, R4, R5, R6, R7 };
/* R2 device type, R3 requested access bits, R4 major, R5 minor,
 * R6 bits allowed so far, R7 bits decided so far, R0 scratch. */

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
	bool oom;
};

static size_t emit(struct prog *p, struct bpf_insn insn)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct bpf_insn *nv = p->oom ? NULL : realloc(p->v, cap * sizeof(*nv));

		if (!nv) {
			p->oom = true;
			return p->n;
		}
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n] = insn;
	return p->n++;
}

/* Point the jump at index at to the instruction index target. */
static void patch(struct prog *p, size_t at, size_t target)
{
	if (!p->oom)
		p->v[at].off = (__s16)(target - at - 1);
}

static int access_bits(const char *a)
{
	int bits = 0;

	if (!a || !*a)
		return ACC_ALL;          /* OCI: an absent access means "rwm" */
	for (; *a; a++) {
		if (*a == 'r')
			bits |= BPF_DEVCG_ACC_READ;
		else if (*a == 'w')
			bits |= BPF_DEVCG_ACC_WRITE;
		else if (*a == 'm')
			bits |= BPF_DEVCG_ACC_MKNOD;
		else
			return -1;
	}
	return bits;
}

int cg_device_rule_check(const struct rt_device_rule *d, size_t i, struct rt_err *err)
{
	if (d->type != 'a' && d->type != 'c' && d->type != 'b')
		return rt_err_set(err, EINVAL, "linux.resources.devices[%zu].type: \"%c\" is not "
				  "one of a, c, b", i, d->type ? d->type : '?');
	if (access_bits(d->access) < 0)
		return rt_err_set(err, EINVAL, "linux.resources.devices[%zu].access: \"%s\" is not "
				  "a subset of \"rwm\"", i, d->access);
	if (d->major < -1 || d->major > UINT32_MAX || d->minor < -1 || d->minor > UINT32_MAX)
		return rt_err_set(err, EINVAL, "linux.resources.devices[%zu]: major %lld / minor "
				  "%lld out of range", i, (long long)d->major, (long long)d->minor);
	return 0;
}

/* One rule: skip to the next block unless type, major and minor match;
 * then take the bits it covers that no later rule decided.  The jump to
 * the verdict (when all requested bits are decided) is returned for
 * patching. */
static size_t emit_rule(struct prog *p, const struct rt_device_rule *d)
{
	size_t skips[3], ns = 0, done;
	int acc = access_bits(d->access);

	if (d->type != 'a')
		skips[ns++] = emit(p, JNE32_IMM(R2, d->type == 'c' ? BPF_DEVCG_DEV_CHAR
								: BPF_DEVCG_DEV_BLOCK, 0));
	if (d->major >= 0)
		skips[ns++] = emit(p, JNE32_IMM(R4, (__s32)(uint32_t)d->major, 0));
	if (d->minor >= 0)
		skips[ns++] = emit(p, JNE32_IMM(R5, (__s32)(uint32_t)d->minor, 0));
	if (d->allow) {
		emit(p, MOV_REG(R0, R7));
		emit(p, ALU_IMM(BPF_XOR, R0, ACC_ALL));
		emit(p, ALU_IMM(BPF_AND, R0, acc));
		emit(p, ALU_REG(BPF_OR, R6, R0));
	}
	emit(p, ALU_IMM(BPF_OR, R7, acc));
	emit(p, MOV_REG(R0, R3));
	emit(p, ALU_REG(BPF_AND, R0, R7));
	done = emit(p, JEQ_REG(R0, R3, 0));
	for (size_t i = 0; i < ns; i++)
		patch(p, skips[i], p->n);
	return done;
}

int cg_devices_bpf_build(const struct rt_device_rule *rules, size_t n, struct bpf_insn **out,
			 size_t *n_insns, struct rt_err *err)
{
	struct prog p = { 0 };
	_cleanup_free_ size_t *done = NULL;
	size_t verdict;

	for (size_t i = 0; i < n; i++)
		if (cg_device_rule_check(&rules[i], i, err) < 0)
			return -err->code;
	if (n && !(done = calloc(n, sizeof(*done))))
		return rt_err_set(err, ENOMEM, "out of memory");
	/* struct bpf_cgroup_dev_ctx: access_type = access << 16 | type. */
	emit(&p, LDX_W(R2, R1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
	emit(&p, ALU_IMM(BPF_AND, R2, 0xffff));
	emit(&p, LDX_W(R3, R1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
	emit(&p, ALU_IMM(BPF_RSH, R3, 16));
	emit(&p, LDX_W(R4, R1, offsetof(struct bpf_cgroup_dev_ctx, major)));
	emit(&p, LDX_W(R5, R1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
	emit(&p, MOV_IMM(R6, 0));
	emit(&p, MOV_IMM(R7, 0));
	for (size_t i = n; i-- > 0;)
		done[i] = emit_rule(&p, &rules[i]);
	/* Verdict: allow only if every requested bit was allowed. */
	verdict = emit(&p, MOV_REG(R0, R3));
	emit(&p, ALU_REG(BPF_AND, R0, R6));
	emit(&p, JEQ_REG(R0, R3, 2));
	emit(&p, MOV_IMM(R0, 0));
	emit(&p, EXIT_INSN());
	emit(&p, MOV_IMM(R0, 1));
	emit(&p, EXIT_INSN());
	for (size_t i = 0; i < n; i++)
		patch(&p, done[i], verdict);
	if (p.oom || verdict > INT16_MAX) {
		free(p.v);
		return rt_err_set(err, p.oom ? ENOMEM : E2BIG, "linux.resources.devices: %s",
				  p.oom ? "out of memory" : "too many rules for one device program");
	}
	*out = p.v;
	*n_insns = p.n;
	return 0;
}

/* ------------------------------------------------------ load and attach */

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* The verifier's last complaint, for the error message. */
static const char *last_line(char *log)
{
	size_t l = strlen(log);

	while (l && log[l - 1] == '\n')
		log[--l] = '\0';
	char *nl = strrchr(log, '\n');
	return nl ? nl + 1 : log;
}

int cg_devices_bpf_load(const struct bpf_insn *insns, size_t n, int *prog_fd, struct rt_err *err)
{
	union bpf_attr attr;
	_cleanup_free_ char *log = NULL;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = (__u32)n;
	attr.license = (uintptr_t)"GPL";    /* no GPL-only helpers are used */
	fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0) {
		*prog_fd = fd;                /* bpf fds are O_CLOEXEC */
		return 0;
	}
	int e = errno;
	/* Load again with the verifier's log, only to explain the failure. */
	if (e == EACCES || e == EINVAL) {
		if ((log = calloc(1, 1 << 16))) {
			attr.log_level = 1;
			attr.log_buf = (uintptr_t)log;
			attr.log_size = 1 << 16;
			fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
			if (fd >= 0)
				close(fd);
			if (*log)
				return rt_err_set(err, e, "linux.resources.devices: the kernel refused "
						  "the device eBPF program: %s", last_line(log));
		}
	}
	return rt_err_sys(err, e, "linux.resources.devices: load the device eBPF program");
}

/* Ids of the device programs attached to the cgroup now, and the mode. */
static int query(int cgfd, __u32 **ids, __u32 *cnt, __u32 *flags, struct rt_err *err)
{
	for (__u32 cap = 16;; cap *= 4) {
		union bpf_attr attr;
		_cleanup_free_ __u32 *v = calloc(cap, sizeof(*v));

		if (!v)
			return rt_err_set(err, ENOMEM, "out of memory");
		memset(&attr, 0, sizeof(attr));
		attr.query.target_fd = (__u32)cgfd;
		attr.query.attach_type = BPF_CGROUP_DEVICE;
		attr.query.prog_ids = (uintptr_t)v;
		attr.query.prog_cnt = cap;
		if (sys_bpf(BPF_PROG_QUERY, &attr) == 0) {
			*ids = steal_ptr(v);
			*cnt = attr.query.prog_cnt;
			*flags = attr.query.attach_flags;
			return 0;
		}
		if (errno != ENOSPC || cap > 4096)
			return rt_err_sys(err, errno, "query the device eBPF programs");
	}
}

static int detach_id(int cgfd, __u32 id, struct rt_err *err)
{
	union bpf_attr attr;
	_cleanup_close_ int fd = -1;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	if ((fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr)) < 0)
		return errno == ENOENT ? 0 : rt_err_sys(err, errno, "open device eBPF program %u",
							 id);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (__u32)cgfd;
	attr.attach_bpf_fd = (__u32)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
		return rt_err_sys(err, errno, "detach the old device eBPF program %u", id);
	return 0;
}

/* Attach the new program first, then detach the old ones: in between both
 * run and a device must pass both, so nothing is ever allowed that neither
 * list allows. */
int cg_devices_bpf_attach(const char *cgroup_dir, int prog_fd, struct rt_err *err)
{
	_cleanup_close_ int cgfd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ __u32 *old = NULL;
	__u32 n_old = 0, flags = 0;
	union bpf_attr attr;

	if (cgfd < 0)
		return rt_err_sys(err, errno, "open %s", cgroup_dir);
	if (query(cgfd, &old, &n_old, &flags, err) < 0)
		return rt_err_wrap(err, "%s", cgroup_dir);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (__u32)cgfd;
	attr.attach_bpf_fd = (__u32)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	/* Someone attached a single program without ALLOW_MULTI: attaching in
	 * that same mode replaces it. */
	bool single = n_old && !(flags & BPF_F_ALLOW_MULTI);
	attr.attach_flags = single ? flags : BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return rt_err_sys(err, errno, "%s: attach the device eBPF program", cgroup_dir);
	for (__u32 i = 0; !single && i < n_old; i++)
		if (detach_id(cgfd, old[i], err) < 0)
			return rt_err_wrap(err, "%s", cgroup_dir);
	return 0;
}

int cg_devices_bpf_apply(const char *cgroup_dir, const struct rt_device_rule *rules, size_t n,
			 struct rt_err *err)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_close_ int fd = -1;
	size_t count;

	if (cg_devices_bpf_build(rules, n, &insns, &count, err) < 0 ||
	    cg_devices_bpf_load(insns, count, &fd, err) < 0 ||
	    cg_devices_bpf_attach(cgroup_dir, fd, err) < 0)
		return -err->code;
	return 0;
}
