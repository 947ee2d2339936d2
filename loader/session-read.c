/* Reading a running session: its rings (records and image chunks), the
 * moves another process made on them, and the kernel's counts of what was
 * lost or skipped. The hot path is mt_drain(). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "../bpf/events.h"
#include "generated/programs.h"
#include "session.h"

static void copy_rings(struct mt_session *s, uint8_t *buf, uint32_t cap, uint32_t *used)
{
	for (int i = 0; i < RING_COUNT; i++)
		mt_ring_copy(&s->rings[i], buf, cap, used);
}

/* Copies whole records into buf until it is full or the rings are empty,
 * waiting up to timeout_ms for the first. Returns bytes copied or -errno. */
EXPORT int32_t mt_drain(struct mt_session *s, uint8_t *buf, uint32_t cap, int32_t timeout_ms)
{
	struct epoll_event events[RING_COUNT];
	uint32_t used = 0;

	if (cap < MT_RECORD_MAX)
		return -EINVAL;
	copy_rings(s, buf, cap, &used);
	if (used || timeout_ms <= 0)
		return (int32_t)used;
	/* The bulk ring wakes its reader only once enough waits (bulk_wakeup()):
	 * the timeout is what brings a trickle in. */
	if (epoll_wait(s->epoll_fd, events, RING_COUNT, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	copy_rings(s, buf, cap, &used);
	return (int32_t)used;
}

/* Copies whole image chunks into buf until it is full or the image ring is
 * empty; never waits. Returns bytes copied or -errno. */
EXPORT int32_t mt_drain_images(struct mt_session *s, uint8_t *buf, uint32_t cap)
{
	uint32_t used = 0;

	if (cap < sizeof(struct mt_image_chunk))
		return -EINVAL;
	mt_ring_copy(&s->images, buf, cap, &used);
	return (int32_t)used;
}

/* Bytes another process moved a ring's consumer position by (which: 0 the
 * priority ring, 1 the bulk ring, 2 the image ring), and how many times. */
EXPORT uint64_t mt_ring_moved(struct mt_session *s, uint32_t which, uint32_t *moves)
{
	struct mt_ring *r = which < RING_COUNT ? &s->rings[which] : &s->images;

	*moves = r->moves;
	return r->moved_bytes;
}

/* The runs of this object's programs the kernel skipped, summed into *out:
 * each program's recursion_misses (one of them was already running on that
 * CPU). fentry/fexit programs count them wherever the kernel has them;
 * kprobe and raw tracepoint programs only on kernels that count them too
 * (6.6 and later). Returns 0, or -errno of the first program that could not
 * be read. */
EXPORT int mt_prog_misses(struct mt_session *s, uint64_t *out)
{
	struct bpf_program *prog;
	uint64_t total = 0;

	bpf_object__for_each_program(prog, s->obj) {
		struct bpf_prog_info info = {};
		uint32_t len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0)
			continue; /* not loaded: autoload off */
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return -errno;
		total += info.recursion_misses;
	}
	*out = total;
	return 0;
}

/* A per-CPU counter of bpf/maps.h, summed into *out. Returns 0, or -errno
 * when it could not be read: a count that cannot be read is not a zero. */
EXPORT int mt_counter(struct mt_session *s, uint32_t which, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_object__find_map_fd_by_name(s->obj, MT_MAP_COUNTERS);
	uint64_t total = 0, *values;
	int rc;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	if (fd < 0)
		return fd;
	if (!(values = calloc(ncpu, sizeof(*values))))
		return -ENOMEM;
	rc = bpf_map_lookup_elem(fd, &which, values) ? -errno : 0;
	for (int i = 0; !rc && i < ncpu; i++)
		total += values[i];
	free(values);
	if (!rc)
		*out = total;
	return rc;
}
