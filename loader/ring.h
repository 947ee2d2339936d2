/* A BPF ring buffer read by copying whole records out, the data pages mapped
 * once (see ring.c). */
#ifndef MODTRACE_RING_H
#define MODTRACE_RING_H

#include <stddef.h>
#include <stdint.h>

struct mt_ring {
	int map_fd;
	unsigned long *consumer_pos; /* the page the reader writes */
	const unsigned long *producer_pos;
	const uint8_t *data;
	size_t data_size; /* a power of two */
	size_t page_size;
	/* The consumer page is writable by any process that holds the map (root
	 * can get it by id): where this reader last left the position, and the
	 * bytes someone else skipped it over or rewound it by. */
	unsigned long expected;
	uint64_t moved_bytes;
	uint32_t moves;
};

/* 0, or -errno. */
int mt_ring_open(struct mt_ring *r, int map_fd);
void mt_ring_close(struct mt_ring *r);
/* Copies whole records into buf from *used on, each at an 8-byte boundary,
 * while the next one fits below cap; a record is consumed only once copied. */
void mt_ring_copy(struct mt_ring *r, uint8_t *buf, uint32_t cap, uint32_t *used);

#endif
