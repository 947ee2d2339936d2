/* The capture session the shim's exports share (shim.c opens, loads and
 * attaches it; session-read.c reads it). */
#ifndef MODTRACE_SESSION_H
#define MODTRACE_SESSION_H

#include <bpf/libbpf.h>
#include "ring.h"

#define EXPORT __attribute__((visibility("default")))

#define RING_COUNT 2

struct mt_session {
	struct bpf_object *obj;
	struct mt_ring rings[RING_COUNT]; /* the priority ring, then the bulk ring */
	struct mt_ring images; /* module images in chunks: drained on its own, never waited for */
	int epoll_fd; /* readable when a ring has data and woke its reader */
	struct bpf_link *links[32];
	int link_count;
};

#endif
