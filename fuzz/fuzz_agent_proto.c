/* libFuzzer: the exec agent's codec on hostile bytes, as either side reads
 * them: frames cut from a stream in arbitrary pieces, each EXEC payload
 * through the request decoder.  ASan/UBSan catch what the bounds miss. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "microvm/agent_proto.h"

static struct ap_reader rd;
static struct ap_exec req;
static uint8_t copy[AP_MAX_PAYLOAD];

/* Every frame the reader can take, checked against its own bounds. */
static void take(void)
{
	struct ap_frame f;

	while (ap_reader_next(&rd, &f) == 1) {
		if (f.len > AP_MAX_PAYLOAD || f.type < AP_EXEC || f.type > AP_TYPE_MAX)
			__builtin_trap();
		if (f.type == AP_EXEC) {
			memcpy(copy, f.data, f.len);
			if (ap_exec_decode(copy, f.len, &req) == 0 &&
			    (!req.n_args || req.args[req.n_args] || req.cwd[0] != '/'))
				__builtin_trap();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int p[2];
	size_t off = 0;

	if (pipe(p) < 0)
		return 0;
	rd.len = rd.off = 0;
	/* The first byte sets the piece size: frames split across reads. */
	size_t piece = size ? (size_t)data[0] % 61 + 1 : 1;
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece;

		if (write(p[1], data + off, n) != (ssize_t)n || ap_reader_fill(&rd, p[0]) <= 0)
			break;
		off += n;
		take();
	}
	close(p[0]);
	close(p[1]);
	/* The request decoder alone, on the whole input. */
	if (size <= AP_MAX_PAYLOAD) {
		memcpy(copy, data, size);
		ap_exec_decode(copy, size, &req);
	}
	return 0;
}
