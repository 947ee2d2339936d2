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
#include <sys/epoll.h>
#include <unistd.h>
#include <zlib.h>
#include "modtrace-deps.h" /* written by loader/build-deps.sh */
#include "../bpf/events.h"
#include "generated/programs.h"
#include "ring.h"

#define EXPORT __attribute__((visibility("default")))

/* The priority ring first: a drain empties it before the bulk ring. */
static const char *const RINGS[] = { MT_MAP_PRIORITY_EVENTS, MT_MAP_EVENTS };
#define RING_COUNT 2

struct mt_session {
	struct bpf_object *obj;
	struct mt_ring rings[RING_COUNT];
	struct mt_ring images; /* module images in chunks: drained on its own, never waited for */
	int epoll_fd; /* readable when a ring has data and woke its reader */
	struct bpf_link *links[32];
	int link_count;
};

/* libbpf's warnings, kept so a failure can be explained to the user. */
static char libbpf_log[4096];
static size_t libbpf_log_len;

/* The program a failed load stopped at, and libbpf's first word on it:
 * libbpf loads programs in turn and gives up at the first the kernel (or its
 * own preparation) refuses, naming it in each warning ("prog '%s': ..."). So
 * the last program named is the one that failed, and the caller can leave it
 * out and load the rest again. */
static char failed_program[128];
static char failed_reason[512];

static void note_program_warning(const char *fmt, va_list args)
{
	static const char PREFIX[] = "prog '%s': ";
	static const char LIBBPF[] = "libbpf: "; /* what libbpf's pr_warn() puts before each */
	char message[sizeof(failed_reason)];
	const char *name;
	va_list copy;
	size_t len;

	if (!strncmp(fmt, LIBBPF, sizeof(LIBBPF) - 1))
		fmt += sizeof(LIBBPF) - 1;
	if (strncmp(fmt, PREFIX, sizeof(PREFIX) - 1))
		return;
	va_copy(copy, args);
	name = va_arg(copy, const char *);
	va_end(copy);
	if (!strcmp(name, failed_program))
		return; /* the first warning on a program says most: "failed to load" follows */
	snprintf(failed_program, sizeof(failed_program), "%s", name);
	va_copy(copy, args);
	vsnprintf(message, sizeof(message), fmt, copy);
	va_end(copy);
	len = strlen(message);
	while (len && message[len - 1] == '\n')
		message[--len] = 0;
	snprintf(failed_reason, sizeof(failed_reason), "%s", message + strlen(name) + sizeof(PREFIX) - 3);
}

static int keep_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	note_program_warning(fmt, args);
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

/* The object and the loader's table (catalogue/programs.ts) must agree: a
 * program the table lacks would be loaded and never attached, one the object
 * lacks could not be attached. Either is a build from sources that disagree. */
static int check_object(struct bpf_object *obj, char *err, uint32_t err_len)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		int i = 0;

		while (i < MT_PROGRAM_COUNT && strcmp(mt_programs[i], name))
			i++;
		if (i == MT_PROGRAM_COUNT) {
			snprintf(err, err_len, "the BPF object has a program %s that the loader's table lacks: "
				 "this modtrace was built from sources that disagree", name);
			return -EINVAL;
		}
	}
	for (int i = 0; i < MT_PROGRAM_COUNT; i++)
		if (!bpf_object__find_program_by_name(obj, mt_programs[i])) {
			snprintf(err, err_len, "the BPF object has no program %s: "
				 "this modtrace was built from sources that disagree", mt_programs[i]);
			return -ENOENT;
		}
	for (int i = 0; i < MT_MAP_COUNT; i++)
		if (!bpf_object__find_map_by_name(obj, mt_maps[i])) {
			snprintf(err, err_len, "the BPF object has no map %s: "
				 "this modtrace was built from sources that disagree", mt_maps[i]);
			return -ENOENT;
		}
	return 0;
}

/* A program by its index in the table, or NULL for an index beyond it. */
static struct bpf_program *program(struct mt_session *s, uint32_t id)
{
	return id < MT_PROGRAM_COUNT ? bpf_object__find_program_by_name(s->obj, mt_programs[id]) : NULL;
}

static int size_ring(struct bpf_object *obj, const char *name, uint32_t bytes)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);

	return map ? bpf_map__set_max_entries(map, bytes) : -ENOENT;
}

EXPORT struct mt_session *mt_open(const void *object, uint64_t object_len, uint32_t ring_bytes,
				  uint32_t image_ring_bytes, char *err, uint32_t err_len)
{
	struct mt_session *s = calloc(1, sizeof(*s));
	int rc;

	libbpf_set_print(keep_libbpf_log);
	libbpf_log_len = 0;
	if (!s) {
		set_error(err, err_len, "allocating the session", ENOMEM);
		return NULL;
	}
	s->epoll_fd = -1;
	s->obj = bpf_object__open_mem(object, object_len, NULL);
	if (!s->obj) {
		set_error(err, err_len, "opening the BPF object", errno);
		free(s);
		return NULL;
	}
	if (check_object(s->obj, err, err_len))
		goto fail;
	if ((rc = size_ring(s->obj, MT_MAP_EVENTS, ring_bytes))) {
		set_error(err, err_len, "sizing the ring buffer", rc);
		goto fail;
	}
	if ((rc = size_ring(s->obj, MT_MAP_IMAGES, image_ring_bytes))) {
		set_error(err, err_len, "sizing the image ring buffer", rc);
		goto fail;
	}
	return s;
fail:
	bpf_object__close(s->obj);
	free(s);
	return NULL;
}

/* Chooses, before mt_load(), whether a program goes into the kernel. */
EXPORT int mt_set_autoload(struct mt_session *s, uint32_t id, int on)
{
	struct bpf_program *prog = program(s, id);

	return prog ? bpf_program__set_autoload(prog, on) : -ENOENT;
}

/* Test hook (MODTRACE_TEST_REJECT_PROGRAMS, see loader/session.ts): makes
 * the kernel refuse one program, as it would one its verifier rejects, by
 * loading it as a socket filter, a type its attach target does not fit. */
EXPORT int mt_test_reject(struct mt_session *s, const char *program)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(s->obj, program);

	return prog ? bpf_program__set_type(prog, BPF_PROG_TYPE_SOCKET_FILTER) : -ENOENT;
}

/* After mt_load() failed: the program it stopped at, and why (both empty
 * when the failure was not one program's, e.g. a map the kernel refused). */
EXPORT void mt_load_failure(char *program, uint32_t program_len, char *reason, uint32_t reason_len)
{
	snprintf(program, program_len, "%s", failed_program);
	snprintf(reason, reason_len, "%s", failed_reason);
}

EXPORT int mt_load(struct mt_session *s, char *err, uint32_t err_len)
{
	int rc;

	failed_program[0] = failed_reason[0] = 0;
	rc = bpf_object__load(s->obj);

	if (rc) {
		set_error(err, err_len, "loading the BPF programs into the kernel", rc);
		return rc;
	}
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0) {
		rc = -errno;
		set_error(err, err_len, "creating an epoll instance", rc);
		return rc;
	}
	rc = mt_ring_open(&s->images, bpf_object__find_map_fd_by_name(s->obj, MT_MAP_IMAGES));
	if (rc) {
		set_error(err, err_len, "images", rc);
		return rc;
	}
	for (int i = 0; i < RING_COUNT; i++) {
		struct epoll_event ev = { .events = EPOLLIN };

		rc = mt_ring_open(&s->rings[i], bpf_object__find_map_fd_by_name(s->obj, RINGS[i]));
		if (!rc && epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->rings[i].map_fd, &ev))
			rc = -errno;
		if (rc) {
			set_error(err, err_len, RINGS[i], rc);
			return rc;
		}
	}
	return 0;
}

/* Before mt_load(): the settings the verifier takes as constants
 * (bpf/config.h). libbpf refuses a struct of another size than the
 * section's, and any change once the object is loaded. */
EXPORT int mt_set_config(struct mt_session *s, uint32_t filters, uint32_t ancestors, uint32_t self_tgid)
{
	struct mt_config cfg = { .filters = filters, .ancestors = ancestors, .self_tgid = self_tgid };
	struct bpf_map *map = bpf_object__find_map_by_name(s->obj, MT_MAP_RODATA_CONFIG);

	return map ? bpf_map__set_initial_value(map, &cfg, sizeof(cfg)) : -ENOENT;
}

/* After attach: the events that attached and the switches that follow from
 * what attached (bpf/config.h). One update of the section's only entry;
 * libbpf refuses a value of another size than the section's. */
/* Names the attached events, which starts the capture, then freezes what
 * the kernel side reads as settings: the attached mask and the filter sets.
 * From then on no process, root included, can change them through bpf()
 * (BPF_MAP_FREEZE: updates and writable maps of a frozen map fail with
 * EPERM), so the capture cannot be blinded by writing 0 into its mask.
 * Returns 0, -errno of the update, or 1 when the update worked and the
 * freeze did not (the capture runs, unprotected: the caller says so). */
EXPORT int mt_set_attached(struct mt_session *s, uint32_t event_mask, uint32_t options)
{
	static const char *const FROZEN[] = { MT_MAP_DATA_ATTACHED, MT_MAP_FILTER_PID, MT_MAP_FILTER_UID, MT_MAP_FILTER_COMM };
	struct mt_attached value = { .event_mask = event_mask, .options = options };
	struct bpf_map *map = bpf_object__find_map_by_name(s->obj, MT_MAP_DATA_ATTACHED);
	uint32_t zero = 0;
	int rc, unfrozen = 0;

	if (!map)
		return -ENOENT;
	rc = bpf_map__update_elem(map, &zero, sizeof(zero), &value, sizeof(value), BPF_ANY);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(FROZEN) / sizeof(FROZEN[0]); i++) {
		int fd = bpf_object__find_map_fd_by_name(s->obj, FROZEN[i]);

		if (fd < 0 || bpf_map_freeze(fd))
			unfrozen = 1;
	}
	return unfrozen;
}

/* Adds one value to the --pid, --uid or --comm set (key: u32, u32, char[16]). */
EXPORT int mt_filter_add(struct mt_session *s, uint32_t filter, const void *key)
{
	const char *map = filter == MT_FILTER_PID    ? MT_MAP_FILTER_PID
			  : filter == MT_FILTER_UID  ? MT_MAP_FILTER_UID
			  : filter == MT_FILTER_COMM ? MT_MAP_FILTER_COMM
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

EXPORT int mt_attach(struct mt_session *s, uint32_t id, char *err, uint32_t err_len)
{
	struct bpf_program *prog = program(s, id);
	struct bpf_link *link;

	if (!prog) {
		snprintf(err, err_len, "no program %u in the loader's table", id);
		return -ENOENT;
	}
	if (s->link_count == (int)(sizeof(s->links) / sizeof(s->links[0]))) {
		set_error(err, err_len, bpf_program__name(prog), ENOSPC);
		return -ENOSPC;
	}
	link = bpf_program__attach(prog);
	if (!link) {
		int rc = -errno;

		set_error(err, err_len, bpf_program__name(prog), rc);
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

/* CLOCK_REALTIME - CLOCK_BOOTTIME in ns: what turns the BPF side's boot-time
 * stamps into wall-clock time. */
/* The libraries linked into this shim: the Debian source versions they were
 * built from and the versions the libraries themselves report. */
EXPORT void mt_built_with(char *buf, uint32_t len)
{
	snprintf(buf, len, "%s (libbpf reports %s, zlib %s)", MT_DEPS_VERSIONS,
		 libbpf_version_string(), zlibVersion());
}

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
	for (int i = 0; i < RING_COUNT; i++)
		mt_ring_close(&s->rings[i]);
	mt_ring_close(&s->images);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	bpf_object__close(s->obj);
	free(s);
}
