/* The maps shared by modtrace's BPF programs and read or written by the loader. */
#ifndef MODTRACE_MAPS_H
#define MODTRACE_MAPS_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include "events.h"

/* Two rings, so that a flood cannot blind modtrace. Failed syscall attempts
 * and autoload requests (module_request), which anyone can make as fast as
 * they like, go to the bulk ring (resized by --buffer-size). What changes the
 * kernel (a syscall that succeeded) and what the kernel reports of loads
 * (module_load, module_free, do_init_module: only privileged work causes
 * them) go to the priority ring, which a flood of those cannot fill. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* The bulk ring wakes its reader when this much waits (see bulk_wakeup()). */
#define MT_WAKEUP_BYTES (64 << 10)

/* 4 MiB: some 7,000 records of about 600 bytes (the caller's context made
 * them three times the size they were at 2 MiB), where a boot's udev loads
 * make a few thousand. Every ring's pages are resident in the reader
 * (loader/ring.c maps them once). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} priority_events SEC(".maps");

/* Module images, in chunks (bpf/image.h): a ring of their own, so that a
 * large module costs no event and a flood of events costs no image. It
 * never wakes the reader, which drains it before every batch of events it
 * decodes (the chunks of a load precede the load's records), so it must
 * hold the images of one poll interval: --image-buffer-size resizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} images SEC(".maps");

/* Where a record is built: its fixed part and room for its strings. */
struct mt_record_buf {
	struct mt_record rec;
	char str[MT_STR_SPACE + MT_STR_LEN];
};

/* --read-at entry: a call's record from its entry, where the caller's memory
 * was read, to its exit, where it is sent with the return value: built in
 * the thread's own storage and sent from there (size 0: nothing parked). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mt_record_buf);
} inflight SEC(".maps");

/* What the kernel-side events inside one module syscall share with it: the
 * call id, and the kernel's name for the module. Keyed by thread id; made by
 * the syscall's entry hook, or by the first kernel event when only the exit
 * is hooked, and removed at the syscall's exit. LRU: an entry whose exit was
 * never seen (capture started mid-call) cannot fill the map. */
#define MT_MODULE_LEN 64 /* MODULE_NAME_LEN is 56 on 64-bit kernels */
#define MT_MODULE_MASK (MT_MODULE_LEN - 1)

struct mt_call {
	u64 call_id;
	u16 module_len;
	u8 module_state;
	u8 event;       /* enum mt_event of the syscall */
	u8 image_state; /* enum mt_image_state: what the image hook did, if it ran */
	u8 pad[3];
	u64 image_size;
	u64 image_sent;
	/* The file the kernel read the module from (finit_module, at the image
	 * hook): what the fd's file at the call is checked against. */
	u64 read_ino;
	u32 read_dev;
	u32 read_flags; /* MT_FLAG_FILE_UNLINKED, MT_FLAG_FILE_OTHER_MNT; 0 until read_seen */
	u8 read_seen;
	u8 pad2[7];
	char module[MT_MODULE_LEN];
};

/* A plain hash, not an LRU: an LRU would evict a call in flight without a
 * word, and a caller holding thousands of calls open could cut a real load
 * from its module_load that way. Full, it takes no new call, and each one
 * it could not take is counted (MT_COUNTER_CALLS_UNTRACKED). Every entry is
 * removed by its syscall's exit hook. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct mt_call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MT_COUNTER_COUNT);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u8);
} filter_pid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u8);
} filter_uid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, char[MT_COMM_LEN]);
	__type(value, u8);
} filter_comm SEC(".maps");

/* Records are larger than the 512-byte BPF stack: build them here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct mt_record_buf);
} scratch_record SEC(".maps");

static __always_inline void count(enum mt_counter which)
{
	u32 key = which;
	u64 *value = bpf_map_lookup_elem(&counters, &key);

	if (value)
		*value += 1;
}

#endif
