/* The exec agent's wire protocol: frames of u8 type, u32 LE length and at
 * most AP_MAX_PAYLOAD bytes, over any connected stream (a vsock in the VM,
 * a socketpair in the tests).  Compiled into both the static guest init
 * and hull, so it depends on libc alone.  Each side treats the other's
 * bytes as hostile: a decoder never trusts a length, a count or a NUL. */
#ifndef HULL_AGENT_PROTO_H
#define HULL_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AP_VSOCK_PORT 1024
#define AP_HDR 5
#define AP_MAX_PAYLOAD (64 * 1024)
#define AP_MAX_ITEMS 1024          /* args, env each */
#define AP_MAX_GROUPS 64

enum ap_type {
	AP_EXEC = 1,       /* host: the request (ap_exec_encode), first and once */
	AP_STDIN,          /* host: bytes for the process's stdin */
	AP_STDIN_EOF,      /* host: no more stdin (empty) */
	AP_WINSIZE,        /* host: u16 rows, u16 cols (LE) */
	AP_SIGNAL,         /* host: u8 signal number for the process */
	AP_STDOUT,         /* guest: bytes the process wrote */
	AP_STDERR,
	AP_EXIT,           /* guest: u8 signaled (0|1), u8 code; then it closes */
	AP_ERROR,          /* guest: u8 exit code (126|127), text; then it closes */
	AP_STARTED,        /* guest: the exec happened (empty); output may follow */
	AP_TYPE_MAX = AP_STARTED,
};

struct ap_frame {
	uint8_t type;
	uint32_t len;
	const uint8_t *data;       /* into the reader's buffer, valid until its next fill */
};

/* Bytes from a stream, cut into frames. */
struct ap_reader {
	uint8_t buf[AP_HDR + AP_MAX_PAYLOAD];
	size_t len, off;
};

/* One complete frame at buf: returns the bytes it takes (> 0), 0 when more
 * bytes are needed, -EBADMSG for an unknown type or an oversized length. */
int ap_decode(const uint8_t *buf, size_t len, struct ap_frame *f);
/* read() once into the reader (after poll said readable): > 0 bytes read,
 * 0 at EOF, -errno. */
ssize_t ap_reader_fill(struct ap_reader *r, int fd);
/* The next complete frame: 1, 0 when none is complete, -EBADMSG. */
int ap_reader_next(struct ap_reader *r, struct ap_frame *f);
/* Write one whole frame (retries short writes and EINTR): 0 or -errno;
 * -EMSGSIZE over AP_MAX_PAYLOAD. */
int ap_write(int fd, uint8_t type, const void *data, size_t len);

/* The EXEC request.  Encoded as NUL-terminated key, value pairs:
 * "arg", "env", "cwd", "uid", "gid", "group", "tty", "rows", "cols". */
struct ap_exec {
	char *args[AP_MAX_ITEMS + 1];
	char *env[AP_MAX_ITEMS + 1];
	gid_t groups[AP_MAX_GROUPS];
	int n_args, n_env, n_groups;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	int tty;
	unsigned rows, cols;
};

/* Into out (at most cap bytes): the length, or -EMSGSIZE. */
ssize_t ap_exec_encode(const struct ap_exec *e, uint8_t *out, size_t cap);
/* Parse buf (modified in place: e points into it).  0, or -EBADMSG for a
 * missing terminator, an unknown key, a bad number, too many items, no
 * args or a relative cwd. */
int ap_exec_decode(uint8_t *buf, size_t len, struct ap_exec *e);

#endif
