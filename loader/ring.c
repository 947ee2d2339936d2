/* Reading a BPF ring buffer (kernel/bpf/ringbuf.c) with its data pages mapped
 * once. libbpf's ring_buffer maps them twice, so that a record that wraps
 * around the end reads as one piece: every ring then counted twice in the
 * process's resident memory (40 MiB for the default rings). modtrace copies
 * each record out anyway, and copies a wrapped one in two pieces.
 *
 * The kernel's layout: page 0, the consumer position (the reader's to
 * write); page 1, the producer position; then the data. Each record has an
 * 8-byte header (length, with BUSY while the writer fills it and DISCARD
 * for a record given up) and starts at an 8-byte boundary.
 *
 * The consumer page is writable by every holder of the map, and root can
 * get the map by its id: another process can move the position, skipping
 * records unread (or rewinding over ones already read). The reader keeps its
 * own copy of where it left the position; a position found elsewhere is
 * counted (moved_bytes, moves). One moved forward is taken as it is (the
 * producer may already have reused the space before it), one rewound goes
 * back to the reader's own; a header that cannot be a record (someone left
 * the position inside one) skips to the producer, counted too. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "ring.h"

int mt_ring_open(struct mt_ring *r, int map_fd)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	void *consumer, *producer;

	memset(r, 0, sizeof(*r));
	if (map_fd < 0)
		return map_fd;
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	r->map_fd = map_fd;
	r->page_size = (size_t)sysconf(_SC_PAGESIZE);
	r->data_size = info.max_entries;
	consumer = mmap(NULL, r->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (consumer == MAP_FAILED)
		return -errno;
	producer = mmap(NULL, r->page_size + r->data_size, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page_size);
	if (producer == MAP_FAILED) {
		int rc = -errno;

		munmap(consumer, r->page_size);
		return rc;
	}
	r->consumer_pos = consumer;
	r->producer_pos = producer;
	r->data = (const uint8_t *)producer + r->page_size;
	r->expected = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
	return 0;
}

void mt_ring_close(struct mt_ring *r)
{
	if (r->consumer_pos)
		munmap(r->consumer_pos, r->page_size);
	if (r->producer_pos)
		munmap((void *)r->producer_pos, r->page_size + r->data_size);
	memset(r, 0, sizeof(*r));
}

void mt_ring_copy(struct mt_ring *r, uint8_t *buf, uint32_t cap, uint32_t *used)
{
	size_t mask = r->data_size - 1;
	unsigned long cons = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
	unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);

	if (cons != r->expected) {
		r->moves++;
		if (cons > r->expected) {
			r->moved_bytes += cons - r->expected;
		} else {
			r->moved_bytes += r->expected - cons;
			cons = r->expected;
			__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
		}
		if (cons > prod) { /* past what was written: nothing there to read */
			cons = prod;
			__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
		}
		r->expected = cons;
	}
	while (cons < prod) {
		const uint32_t *header = (const uint32_t *)(r->data + (cons & mask));
		uint32_t word = __atomic_load_n(header, __ATOMIC_ACQUIRE);
		uint32_t len = word & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		uint32_t step = (len + 7) & ~7u;

		if ((cons & 7) || len > r->data_size - BPF_RINGBUF_HDR_SZ || prod - cons > r->data_size) {
			/* Not a record's start: the position was left mid-record. */
			r->moved_bytes += prod - cons;
			r->moves++;
			cons = prod;
			r->expected = cons;
			__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
			break;
		}
		if (word & BPF_RINGBUF_BUSY_BIT)
			break; /* still being written: the next call gets it */
		if (!(word & BPF_RINGBUF_DISCARD_BIT)) {
			size_t start = (cons + BPF_RINGBUF_HDR_SZ) & mask;
			size_t first = len < r->data_size - start ? len : r->data_size - start;

			if (cap - *used < step)
				break;
			memcpy(buf + *used, r->data + start, first);
			memcpy(buf + *used + first, r->data, len - first);
			*used += step;
		}
		cons += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
		r->expected = cons;
		__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
	}
}
