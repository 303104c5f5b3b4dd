#include "config.h"
/* Cgroups: the per-device and per-key resources: blockIO (blkio on v1, io
 * on v2), hugepageLimits (hugetlb), network (net_cls and net_prio, v1
 * only) and rdma. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cg_internal.h"
#include "runtime/cleanup.h"

/* -------------------------------------------------------------- checks */

/* "2MB", "1GB", "64KB": what the kernel names hugetlb.<size>.* after. */
static bool page_size_ok(const char *s)
{
	size_t digits = strspn(s, "0123456789");

	return digits > 0 && digits < 12 && strchr("KMG", s[digits]) && s[digits] &&
	       s[digits + 1] == 'B' && !s[digits + 2];
}

/* Names that go inside a "name value" line: no separators. */
static bool word_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || !isprint((unsigned char)*s) || *s == '/')
			return false;
	return true;
}

int cg_check_io(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		if (!page_size_ok(r->hugepage_limits[i].page_size))
			return rt_err_set(err, EINVAL, "linux.resources.hugepageLimits[%zu].pageSize: "
					  "\"%s\" is not a size like \"2MB\"", i,
					  r->hugepage_limits[i].page_size);
	if ((r->has_net_class_id || r->n_net_priorities) && h->layout == CG_LAYOUT_UNIFIED)
		return rt_err_set(err, ENOTSUP, "linux.resources.network: not supported on "
				  "cgroup v2");
	for (size_t i = 0; i < r->n_net_priorities; i++)
		if (!word_ok(r->net_priorities[i].name))
			return rt_err_set(err, EINVAL, "linux.resources.network.priorities[%zu].name: "
					  "\"%s\" is not an interface name", i,
					  r->net_priorities[i].name ? r->net_priorities[i].name : "");
	for (size_t i = 0; i < r->n_rdma; i++)
		if (!word_ok(r->rdma[i].device))
			return rt_err_set(err, EINVAL, "linux.resources.rdma: \"%s\" is not a device "
					  "name", r->rdma[i].device ? r->rdma[i].device : "");
	return 0;
}

/* ------------------------------------------------------------- blockIO */

enum { RBPS, WBPS, RIOPS, WIOPS };
static const char *const v1_throttle[] = {
	"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
};
static const char *const v2_throttle[] = { "rbps", "wbps", "riops", "wiops" };

static const struct rt_blkio_dev *throttle(const struct rt_resources *r, int k, size_t *n)
{
	const struct rt_blkio_dev *const v[] = { r->blkio_throttle_read_bps,
		r->blkio_throttle_write_bps, r->blkio_throttle_read_iops,
		r->blkio_throttle_write_iops };
	const size_t c[] = { r->n_blkio_throttle_read_bps, r->n_blkio_throttle_write_bps,
		r->n_blkio_throttle_read_iops, r->n_blkio_throttle_write_iops };

	*n = c[k];
	return v[k];
}

/* v2 io.weight is 1..10000 with default 100; v1's 10..1000 with 500. */
static long long io_weight(int64_t w)
{
	long long x = w < 10 ? 10 : w > 1000 ? 1000 : w;

	return 1 + (x - 10) * 9999 / 990;
}

/* v1 blkio.weight is CFQ's; with BFQ the same value goes to blkio.bfq.*. */
static const char *v1_weight_file(const char *d, bool device)
{
	const char *cfq = device ? "blkio.weight_device" : "blkio.weight";
	const char *bfq = device ? "blkio.bfq.weight_device" : "blkio.bfq.weight";

	return cg_file_exists(d, cfq) ? cfq : cg_file_exists(d, bfq) ? bfq : NULL;
}

static int blkio_v1_weights(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	const char *wf = v1_weight_file(d, false), *wdf = v1_weight_file(d, true);

	if ((r->blkio_weight > 0 && !wf) || (r->n_blkio_weight_device && !wdf))
		return rt_err_set(err, ENOTSUP, "linux.resources.blockIO.weight: this kernel has "
				  "no blkio.weight (needs the CFQ or BFQ I/O scheduler)");
	if (r->blkio_weight > 0 &&
	    cg_writef(d, wf, err, "%lld", (long long)r->blkio_weight) < 0)
		return -err->code;
	if (r->blkio_leaf_weight > 0) {
		if (!cg_file_exists(d, "blkio.leaf_weight"))
			return rt_err_set(err, ENOTSUP, "linux.resources.blockIO.leafWeight: this "
					  "kernel has no blkio.leaf_weight");
		if (cg_writef(d, "blkio.leaf_weight", err, "%lld",
			      (long long)r->blkio_leaf_weight) < 0)
			return -err->code;
	}
	for (size_t i = 0; i < r->n_blkio_weight_device; i++) {
		const struct rt_blkio_dev *x = &r->blkio_weight_device[i];

		if (x->weight >= 0 && cg_writef(d, wdf, err, "%lld:%lld %lld", (long long)x->major,
						(long long)x->minor, (long long)x->weight) < 0)
			return -err->code;
		if (x->leaf_weight >= 0 &&
		    cg_writef(d, "blkio.leaf_weight_device", err, "%lld:%lld %lld",
			      (long long)x->major, (long long)x->minor,
			      (long long)x->leaf_weight) < 0)
			return -err->code;
	}
	return 0;
}

static int blkio_v1(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	if (blkio_v1_weights(d, r, err) < 0)
		return -err->code;
	/* A rate of 0 removes the device's limit, as the kernel defines it. */
	for (int k = RBPS; k <= WIOPS; k++) {
		size_t n;
		const struct rt_blkio_dev *v = throttle(r, k, &n);

		for (size_t i = 0; i < n; i++)
			if (cg_writef(d, v1_throttle[k], err, "%lld:%lld %llu", (long long)v[i].major,
				      (long long)v[i].minor, (unsigned long long)v[i].rate) < 0)
				return -err->code;
	}
	return 0;
}

/* io.max takes one line per device with any of its four keys: gather
 * them, so each device is one write. */
static void io_max_line(const struct rt_resources *r, int64_t maj, int64_t min, char *buf,
		       size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "%lld:%lld", (long long)maj, (long long)min);

	for (int k = RBPS; k <= WIOPS; k++) {
		size_t n;
		const struct rt_blkio_dev *v = throttle(r, k, &n);

		for (size_t i = 0; i < n && off < len; i++) {
			if (v[i].major != maj || v[i].minor != min)
				continue;
			if (v[i].rate)
				off += (size_t)snprintf(buf + off, len - off, " %s=%llu", v2_throttle[k],
							(unsigned long long)v[i].rate);
			else
				off += (size_t)snprintf(buf + off, len - off, " %s=max", v2_throttle[k]);
			break;
		}
	}
}

/* Was device maj:min already written, by an earlier entry of any list? */
static bool seen_before(const struct rt_resources *r, int upto_k, size_t upto_i, int64_t maj,
			int64_t min)
{
	for (int k = RBPS; k <= upto_k; k++) {
		size_t n;
		const struct rt_blkio_dev *v = throttle(r, k, &n);

		for (size_t i = 0; i < (k == upto_k ? upto_i : n); i++)
			if (v[i].major == maj && v[i].minor == min)
				return true;
	}
	return false;
}

static int blkio_v2(const char *d, const struct rt_resources *r, struct rt_err *err)
{
	/* BFQ takes the v1 scale as is; io.weight needs the conversion. */
	bool bfq = cg_file_exists(d, "io.bfq.weight");
	const char *wf = bfq ? "io.bfq.weight" : "io.weight";

	if (r->blkio_weight > 0 && (bfq ? cg_writef(d, wf, err, "%lld", (long long)r->blkio_weight)
				       : cg_writef(d, wf, err, "default %lld",
						   io_weight(r->blkio_weight))) < 0)
		return -err->code;
	for (size_t i = 0; i < r->n_blkio_weight_device; i++) {
		const struct rt_blkio_dev *x = &r->blkio_weight_device[i];

		if (x->weight >= 0 &&
		    cg_writef(d, wf, err, "%lld:%lld %lld", (long long)x->major, (long long)x->minor,
			      bfq ? (long long)x->weight : io_weight(x->weight)) < 0)
			return -err->code;
	}
	/* leafWeight has no v2 equivalent; runc and crun ignore it there. */
	for (int k = RBPS; k <= WIOPS; k++) {
		size_t n;
		const struct rt_blkio_dev *v = throttle(r, k, &n);

		for (size_t i = 0; i < n; i++) {
			char line[160];

			if (seen_before(r, k, i, v[i].major, v[i].minor))
				continue;
			io_max_line(r, v[i].major, v[i].minor, line, sizeof(line));
			if (cg_write(d, "io.max", line, err) < 0)
				return -err->code;
		}
	}
	return 0;
}

int cg_apply_blkio(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;
	size_t n_thr = r->n_blkio_throttle_read_bps + r->n_blkio_throttle_write_bps +
		       r->n_blkio_throttle_read_iops + r->n_blkio_throttle_write_iops;

	if (r->blkio_weight <= 0 && r->blkio_leaf_weight <= 0 && !r->n_blkio_weight_device &&
	    !n_thr)
		return 0;
	if (!(d = cg_ctrl_dir(h, "blkio")) && cg_need_ctrl(h, "io", "blockIO", &d, err) < 0)
		return -err->code;
	return d->v2 ? blkio_v2(d->path, r, err) : blkio_v1(d->path, r, err);
}

/* ------------------------------------------------------------- hugetlb */

int cg_apply_hugetlb(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (!r->n_hugepage_limits)
		return 0;
	if (cg_need_ctrl(h, "hugetlb", "hugepageLimits", &d, err) < 0)
		return -err->code;
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		const struct rt_hugepage_limit *x = &r->hugepage_limits[i];
		char file[64], rsvd[64];

		snprintf(file, sizeof(file), "hugetlb.%s.%s", x->page_size,
			 d->v2 ? "max" : "limit_in_bytes");
		snprintf(rsvd, sizeof(rsvd), "hugetlb.%s.rsvd.%s", x->page_size,
			 d->v2 ? "max" : "limit_in_bytes");
		if (!cg_file_exists(d->path, file))
			return rt_err_set(err, ENOENT, "linux.resources.hugepageLimits[%zu]: page size "
					  "%s is not supported here (no %s)", i, x->page_size, file);
		if (cg_writef(d->path, file, err, "%llu", (unsigned long long)x->limit) < 0)
			return rt_err_wrap(err, "linux.resources.hugepageLimits[%zu]", i);
		/* Reservations are charged separately where the kernel has them;
		 * limit those the same, as runc does. */
		if (cg_file_exists(d->path, rsvd) &&
		    cg_writef(d->path, rsvd, err, "%llu", (unsigned long long)x->limit) < 0)
			return rt_err_wrap(err, "linux.resources.hugepageLimits[%zu]", i);
	}
	return 0;
}

/* ------------------------------------------------------------- network */

int cg_apply_network(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (r->has_net_class_id) {
		if (cg_need_ctrl(h, "net_cls", "network.classID", &d, err) < 0 ||
		    cg_writef(d->path, "net_cls.classid", err, "%u", r->net_class_id) < 0)
			return -err->code;
	}
	if (!r->n_net_priorities)
		return 0;
	if (cg_need_ctrl(h, "net_prio", "network.priorities", &d, err) < 0)
		return -err->code;
	for (size_t i = 0; i < r->n_net_priorities; i++)
		if (cg_writef(d->path, "net_prio.ifpriomap", err, "%s %u",
			      r->net_priorities[i].name, r->net_priorities[i].priority) < 0)
			return rt_err_wrap(err, "linux.resources.network.priorities[%zu]", i);
	return 0;
}

/* ---------------------------------------------------------------- rdma */

int cg_apply_rdma(struct cg_handle *h, const struct rt_resources *r, struct rt_err *err)
{
	struct cg_dir *d;

	if (!r->n_rdma)
		return 0;
	if (cg_need_ctrl(h, "rdma", "rdma", &d, err) < 0)
		return -err->code;
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct rt_rdma *x = &r->rdma[i];
		char line[160];
		size_t off = (size_t)snprintf(line, sizeof(line), "%s", x->device);

		if (x->hca_handles < 0 && x->hca_objects < 0)
			continue;
		if (x->hca_handles >= 0)
			off += (size_t)snprintf(line + off, sizeof(line) - off, " hca_handle=%lld",
						(long long)x->hca_handles);
		if (x->hca_objects >= 0)
			snprintf(line + off, sizeof(line) - off, " hca_object=%lld",
				 (long long)x->hca_objects);
		if (cg_write(d->path, "rdma.max", line, err) < 0)
			return rt_err_wrap(err, "linux.resources.rdma[\"%s\"]", x->device);
	}
	return 0;
}
