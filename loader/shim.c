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
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <zlib.h>
#include "modtrace-deps.h" /* written by loader/build-deps.sh */
#include "../bpf/events.h"
#include "generated/programs.h"
#include "session.h"
#include "libbpf-log.h"

/* The priority ring first: a drain empties it before the bulk ring. */
static const char *const RINGS[RING_COUNT] = { MT_MAP_PRIORITY_EVENTS, MT_MAP_EVENTS };

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

	libbpf_set_print(mt_keep_libbpf_log);
	mt_forget_libbpf_log();
	if (!s) {
		mt_set_error(err, err_len, "allocating the session", ENOMEM);
		return NULL;
	}
	s->epoll_fd = -1;
	s->obj = bpf_object__open_mem(object, object_len, NULL);
	if (!s->obj) {
		mt_set_error(err, err_len, "opening the BPF object", errno);
		free(s);
		return NULL;
	}
	if (check_object(s->obj, err, err_len))
		goto fail;
	if ((rc = size_ring(s->obj, MT_MAP_EVENTS, ring_bytes))) {
		mt_set_error(err, err_len, "sizing the ring buffer", rc);
		goto fail;
	}
	if ((rc = size_ring(s->obj, MT_MAP_IMAGES, image_ring_bytes))) {
		mt_set_error(err, err_len, "sizing the image ring buffer", rc);
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

EXPORT int mt_load(struct mt_session *s, char *err, uint32_t err_len)
{
	int rc;

	mt_forget_load_failure();
	rc = bpf_object__load(s->obj);

	if (rc) {
		mt_set_error(err, err_len, "loading the BPF programs into the kernel", rc);
		return rc;
	}
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0) {
		rc = -errno;
		mt_set_error(err, err_len, "creating an epoll instance", rc);
		return rc;
	}
	rc = mt_ring_open(&s->images, bpf_object__find_map_fd_by_name(s->obj, MT_MAP_IMAGES));
	if (rc) {
		mt_set_error(err, err_len, "images", rc);
		return rc;
	}
	for (int i = 0; i < RING_COUNT; i++) {
		struct epoll_event ev = { .events = EPOLLIN };

		rc = mt_ring_open(&s->rings[i], bpf_object__find_map_fd_by_name(s->obj, RINGS[i]));
		if (!rc && epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->rings[i].map_fd, &ev))
			rc = -errno;
		if (rc) {
			mt_set_error(err, err_len, RINGS[i], rc);
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
		mt_set_error(err, err_len, bpf_program__name(prog), ENOSPC);
		return -ENOSPC;
	}
	link = bpf_program__attach(prog);
	if (!link) {
		int rc = -errno;

		mt_set_error(err, err_len, bpf_program__name(prog), rc);
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

/* The libraries linked into this shim: the Debian source versions they were
 * built from and the versions the libraries themselves report. */
EXPORT void mt_built_with(char *buf, uint32_t len)
{
	snprintf(buf, len, "%s (libbpf reports %s, zlib %s)", MT_DEPS_VERSIONS,
		 libbpf_version_string(), zlibVersion());
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
