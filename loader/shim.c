/* The C side of modtrace's loader: a small surface over libbpf that bun:ffi
 * can call. Built as one shared object with libbpf, libelf and zlib linked in
 * statically, so the host needs nothing but libc. Only the mt_* functions
 * are exported.
 *
 * The hot path is mt_drain(): one call copies a whole batch of ring-buffer
 * records into a buffer the caller owns (the decoder's WebAssembly memory),
 * so no per-event callback ever crosses into JavaScript. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "../bpf/events.h"

#define EXPORT __attribute__((visibility("default")))
/* A distinct "stop" from the sample callback: the batch buffer is full. */
#define BATCH_FULL (-ENOBUFS)

struct mt_session {
	struct bpf_object *obj;
	struct ring_buffer *ring;
	struct bpf_link *links[32];
	int link_count;
	uint8_t *batch;
	uint32_t batch_cap;
	uint32_t batch_used;
};

/* libbpf's warnings, kept so a failure can be explained to the user. */
static char libbpf_log[4096];
static size_t libbpf_log_len;

static int keep_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	if (libbpf_log_len >= sizeof(libbpf_log) - 1)
		libbpf_log_len = 0;
	n = vsnprintf(libbpf_log + libbpf_log_len, sizeof(libbpf_log) - libbpf_log_len, fmt, args);
	if (n > 0)
		libbpf_log_len += (size_t)n < sizeof(libbpf_log) - libbpf_log_len
					  ? (size_t)n
					  : sizeof(libbpf_log) - libbpf_log_len - 1;
	return 0;
}

static void set_error(char *err, uint32_t err_len, const char *what, int code)
{
	if (!err || !err_len)
		return;
	snprintf(err, err_len, "%s: %s%s%.*s", what, strerror(code < 0 ? -code : code),
		 libbpf_log_len ? "\n" : "", (int)libbpf_log_len, libbpf_log);
	libbpf_log_len = 0;
}

static int copy_sample(void *ctx, void *data, size_t size)
{
	struct mt_session *s = ctx;
	size_t step = (size + 7) & ~(size_t)7;

	memcpy(s->batch + s->batch_used, data, size);
	s->batch_used += step;
	/* Stop while one more record still fits: a sample handed to this
	 * callback is already consumed, so it must never be refused. */
	if (s->batch_cap - s->batch_used < MT_RECORD_MAX)
		return BATCH_FULL;
	return 0;
}

EXPORT struct mt_session *mt_open(const void *object, uint64_t object_len, uint32_t ring_bytes,
				  char *err, uint32_t err_len)
{
	struct mt_session *s = calloc(1, sizeof(*s));
	struct bpf_map *events;
	int rc;

	libbpf_set_print(keep_libbpf_log);
	libbpf_log_len = 0;
	if (!s) {
		set_error(err, err_len, "allocating the session", ENOMEM);
		return NULL;
	}
	s->obj = bpf_object__open_mem(object, object_len, NULL);
	if (!s->obj) {
		set_error(err, err_len, "opening the BPF object", errno);
		free(s);
		return NULL;
	}
	events = bpf_object__find_map_by_name(s->obj, "events");
	if (!events || (rc = bpf_map__set_max_entries(events, ring_bytes))) {
		set_error(err, err_len, "sizing the ring buffer", events ? rc : ENOENT);
		goto fail;
	}
	return s;
fail:
	bpf_object__close(s->obj);
	free(s);
	return NULL;
}

/* Chooses, before mt_load(), whether a program goes into the kernel. */
EXPORT int mt_set_autoload(struct mt_session *s, const char *program, int on)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(s->obj, program);

	return prog ? bpf_program__set_autoload(prog, on) : -ENOENT;
}

EXPORT int mt_load(struct mt_session *s, char *err, uint32_t err_len)
{
	int rc = bpf_object__load(s->obj);

	if (rc) {
		set_error(err, err_len, "loading the BPF programs into the kernel", rc);
		return rc;
	}
	/* The priority ring first: a drain empties it before the bulk ring. */
	s->ring = ring_buffer__new(bpf_object__find_map_fd_by_name(s->obj, "priority_events"), copy_sample, s, NULL);
	if (!s->ring) {
		rc = -errno;
		set_error(err, err_len, "opening the priority ring buffer", rc);
		return rc;
	}
	rc = ring_buffer__add(s->ring, bpf_object__find_map_fd_by_name(s->obj, "events"), copy_sample, s);
	if (rc) {
		set_error(err, err_len, "opening the ring buffer", rc);
		return rc;
	}
	return 0;
}

EXPORT int mt_configure(struct mt_session *s, uint32_t event_mask, uint32_t filters)
{
	struct mt_config cfg = { .event_mask = event_mask, .filters = filters };
	uint32_t zero = 0;
	int fd = bpf_object__find_map_fd_by_name(s->obj, "config");

	if (fd < 0)
		return fd;
	return bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

/* Adds one value to the --pid, --uid or --comm set (key: u32, u32, char[16]). */
EXPORT int mt_filter_add(struct mt_session *s, uint32_t filter, const void *key)
{
	const char *map = filter == MT_FILTER_PID   ? "filter_pid"
			  : filter == MT_FILTER_UID ? "filter_uid"
			  : filter == MT_FILTER_COMM ? "filter_comm"
						     : NULL;
	uint8_t one = 1;
	int fd;

	if (!map)
		return -EINVAL;
	fd = bpf_object__find_map_fd_by_name(s->obj, map);
	if (fd < 0)
		return fd;
	return bpf_map_update_elem(fd, key, &one, BPF_ANY) ? -errno : 0;
}

EXPORT int mt_attach(struct mt_session *s, const char *program, char *err, uint32_t err_len)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(s->obj, program);
	struct bpf_link *link;

	if (!prog) {
		set_error(err, err_len, program, ENOENT);
		return -ENOENT;
	}
	if (s->link_count == (int)(sizeof(s->links) / sizeof(s->links[0]))) {
		set_error(err, err_len, program, ENOSPC);
		return -ENOSPC;
	}
	link = bpf_program__attach(prog);
	if (!link) {
		int rc = -errno;

		set_error(err, err_len, program, rc);
		return rc;
	}
	s->links[s->link_count++] = link;
	return 0;
}

/* Detaches every program, so a final drain sees a ring that no longer grows. */
EXPORT void mt_detach(struct mt_session *s)
{
	for (int i = 0; i < s->link_count; i++)
		bpf_link__destroy(s->links[i]);
	s->link_count = 0;
}

/* Copies whole records into buf until it is full or the ring is empty,
 * waiting up to timeout_ms for the first. Returns bytes copied or -errno. */
EXPORT int32_t mt_drain(struct mt_session *s, uint8_t *buf, uint32_t cap, int32_t timeout_ms)
{
	int rc;

	if (cap < MT_RECORD_MAX)
		return -EINVAL;
	s->batch = buf;
	s->batch_cap = cap;
	s->batch_used = 0;
	rc = ring_buffer__consume(s->ring);
	if (rc == 0)
		rc = ring_buffer__poll(s->ring, timeout_ms);
	if (rc < 0 && rc != BATCH_FULL && rc != -EINTR)
		return rc;
	return (int32_t)s->batch_used;
}

EXPORT uint64_t mt_counter(struct mt_session *s, uint32_t which)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_object__find_map_fd_by_name(s->obj, "counters");
	uint64_t total = 0, *values;

	if (ncpu <= 0 || fd < 0 || !(values = calloc(ncpu, sizeof(*values))))
		return 0;
	if (!bpf_map_lookup_elem(fd, &which, values))
		for (int i = 0; i < ncpu; i++)
			total += values[i];
	free(values);
	return total;
}

/* CLOCK_REALTIME - CLOCK_BOOTTIME in ns: what turns the BPF side's boot-time
 * stamps into wall-clock time. */
EXPORT int64_t mt_clock_offset_ns(void)
{
	struct timespec real, boot;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	return (int64_t)(real.tv_sec - boot.tv_sec) * 1000000000LL + (real.tv_nsec - boot.tv_nsec);
}

EXPORT void mt_close(struct mt_session *s)
{
	if (!s)
		return;
	mt_detach(s);
	ring_buffer__free(s->ring);
	bpf_object__close(s->obj);
	free(s);
}
