/* The exec agent's frame codec (see agent_proto.h). */
#define _GNU_SOURCE
#include "agent_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ap_decode(const uint8_t *buf, size_t len, struct ap_frame *f)
{
	uint32_t n;

	if (len < 1)
		return 0;
	if (buf[0] < AP_EXEC || buf[0] > AP_TYPE_MAX)
		return -EBADMSG;
	if (len < AP_HDR)
		return 0;
	n = (uint32_t)buf[1] | (uint32_t)buf[2] << 8 | (uint32_t)buf[3] << 16 |
	    (uint32_t)buf[4] << 24;
	if (n > AP_MAX_PAYLOAD)
		return -EBADMSG;
	if (len - AP_HDR < n)
		return 0;
	f->type = buf[0];
	f->len = n;
	f->data = buf + AP_HDR;
	return (int)(AP_HDR + n);
}

ssize_t ap_reader_fill(struct ap_reader *r, int fd)
{
	ssize_t n;

	/* What the last frames took goes first, so a whole frame always fits. */
	if (r->off) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (r->len == sizeof(r->buf))
		return -ENOBUFS;   /* cannot happen: ap_reader_next takes a full frame */
	do
		n = read(fd, r->buf + r->len, sizeof(r->buf) - r->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->len += (size_t)n;
	return n;
}

int ap_reader_next(struct ap_reader *r, struct ap_frame *f)
{
	int n = ap_decode(r->buf + r->off, r->len - r->off, f);

	if (n <= 0)
		return n;
	r->off += (size_t)n;
	return 1;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		/* A peer that went away is an error here, not a SIGPIPE. */
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ap_write(int fd, uint8_t type, const void *data, size_t len)
{
	uint8_t hdr[AP_HDR] = { type, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
				(uint8_t)(len >> 24) };
	int r;

	if (len > AP_MAX_PAYLOAD)
		return -EMSGSIZE;
	r = write_all(fd, hdr, sizeof(hdr));
	return r < 0 || !len ? r : write_all(fd, data, len);
}

/* ---- the EXEC request ------------------------------------------------ */

static int put(uint8_t *out, size_t cap, size_t *off, const char *k, const char *v)
{
	size_t kl = strlen(k) + 1, vl = strlen(v) + 1;

	if (kl + vl > cap - *off)
		return -EMSGSIZE;
	memcpy(out + *off, k, kl);
	memcpy(out + *off + kl, v, vl);
	*off += kl + vl;
	return 0;
}

static int put_num(uint8_t *out, size_t cap, size_t *off, const char *k, unsigned long v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lu", v);
	return put(out, cap, off, k, s);
}

ssize_t ap_exec_encode(const struct ap_exec *e, uint8_t *out, size_t cap)
{
	size_t off = 0;
	int r = 0;

	/* The guest refuses more; say so here, where the host can name it. */
	if (e->n_args > AP_MAX_ITEMS || e->n_env > AP_MAX_ITEMS || e->n_groups > AP_MAX_GROUPS)
		return -E2BIG;
	for (int i = 0; !r && i < e->n_args; i++)
		r = put(out, cap, &off, "arg", e->args[i]);
	for (int i = 0; !r && i < e->n_env; i++)
		r = put(out, cap, &off, "env", e->env[i]);
	for (int i = 0; !r && i < e->n_groups; i++)
		r = put_num(out, cap, &off, "group", e->groups[i]);
	if (!r)
		r = put(out, cap, &off, "cwd", e->cwd ? e->cwd : "/");
	if (!r)
		r = put_num(out, cap, &off, "uid", e->uid);
	if (!r)
		r = put_num(out, cap, &off, "gid", e->gid);
	if (!r)
		r = put_num(out, cap, &off, "tty", e->tty ? 1 : 0);
	if (!r)
		r = put_num(out, cap, &off, "rows", e->rows);
	if (!r)
		r = put_num(out, cap, &off, "cols", e->cols);
	return r < 0 ? r : (ssize_t)off;
}

/* A decimal number up to max, the whole string. */
static int num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EBADMSG;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || *end || *v > max ? -EBADMSG : 0;
}

static int item(struct ap_exec *e, const char *k, char *v)
{
	unsigned long n;

	if (!strcmp(k, "arg") || !strcmp(k, "env")) {
		int *cnt = k[0] == 'a' ? &e->n_args : &e->n_env;
		char **vec = k[0] == 'a' ? e->args : e->env;

		if (*cnt >= AP_MAX_ITEMS)
			return -EBADMSG;
		vec[(*cnt)++] = v;
		return 0;
	}
	if (!strcmp(k, "cwd")) {
		e->cwd = v;
		return 0;
	}
	if (!strcmp(k, "group")) {
		if (e->n_groups >= AP_MAX_GROUPS || num(v, UINT32_MAX - 1, &n) < 0)
			return -EBADMSG;
		e->groups[e->n_groups++] = (gid_t)n;
		return 0;
	}
	if (num(v, !strcmp(k, "tty") ? 1 : UINT32_MAX - 1, &n) < 0)
		return -EBADMSG;
	if (!strcmp(k, "uid"))
		e->uid = (uid_t)n;
	else if (!strcmp(k, "gid"))
		e->gid = (gid_t)n;
	else if (!strcmp(k, "tty"))
		e->tty = (int)n;
	else if (!strcmp(k, "rows") && n <= UINT16_MAX)
		e->rows = (unsigned)n;
	else if (!strcmp(k, "cols") && n <= UINT16_MAX)
		e->cols = (unsigned)n;
	else
		return -EBADMSG;
	return 0;
}

int ap_exec_decode(uint8_t *buf, size_t len, struct ap_exec *e)
{
	char *p = (char *)buf, *end = (char *)buf + len;

	memset(e, 0, sizeof(*e));
	e->cwd = "/";
	if (len && buf[len - 1] != 0)
		return -EBADMSG;     /* every string ends inside the payload */
	while (p < end) {
		char *k = p, *v = k + strlen(k) + 1;

		if (v >= end)
			return -EBADMSG;  /* a key without a value */
		if (item(e, k, v) < 0)
			return -EBADMSG;
		p = v + strlen(v) + 1;
	}
	if (!e->n_args || !e->args[0][0] || e->cwd[0] != '/')
		return -EBADMSG;
	e->args[e->n_args] = NULL;
	e->env[e->n_env] = NULL;
	return 0;
}
