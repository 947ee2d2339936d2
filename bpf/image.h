/* Module images: the exact bytes the kernel was handed, streamed to user
 * space in chunks through the image ring, where they are hashed (and saved
 * with --save-modules). Read from the kernel's own copy at the security
 * hooks that see it whole, before the module is parsed: a file replaced
 * after the load cannot change what is hashed. */
#ifndef MODTRACE_IMAGE_H
#define MODTRACE_IMAGE_H

#include "module_record.h"

struct image_walk {
	const char *image;
	u64 size;
	u64 sent;
	u64 id;
};

/* Not inlined: its BTF then describes struct mt_image_chunk, from which
 * decoder/gen-layout.ts takes the chunk layout. */
static __noinline void fill_header(struct mt_image_chunk *chunk, const struct image_walk *w, u32 len)
{
	chunk->size = sizeof(*chunk);
	chunk->version = MT_LAYOUT_VERSION;
	chunk->len = len;
	chunk->image_id = w->id;
	chunk->offset = w->sent;
	chunk->total = w->size;
}

/* bpf_loop() step: one chunk into the image ring; stops at the end or when
 * the ring is full (a chunk is never sent half-read). */
static long send_chunk(u64 index, struct image_walk *w)
{
	struct mt_image_chunk *chunk;
	u64 left = w->size - w->sent;
	u32 len = left < MT_CHUNK_BYTES ? left : MT_CHUNK_BYTES;

	if (!left)
		return 1;
	chunk = bpf_ringbuf_reserve(&images, sizeof(*chunk), 0);
	if (!chunk)
		return 1;
	if (bpf_probe_read_kernel(chunk->data, len, w->image + w->sent)) {
		bpf_ringbuf_discard(chunk, BPF_RB_NO_WAKEUP);
		return 1;
	}
	fill_header(chunk, w, len);
	bpf_ringbuf_submit(chunk, BPF_RB_NO_WAKEUP);
	w->sent += len;
	return 0;
}

/* The image handed over in `event`, the syscall this thread is in: sent
 * whole, or not at all as far as a hash goes (the call's record says how far
 * it got). For a file (finit_module, kexec_file_load), `file` is the one the
 * kernel read it from (NULL for init_module): the call keeps what identifies
 * it (check_read_file()). An image read in any other call (a module's
 * firmware during its init, kexec's initramfs) is not the call's. */
static __always_inline void stream_image(int event, const char *image, s64 size, struct file *file)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct image_walk walk = { .image = image };
	struct mt_call *call;

	if (!(attached.options & MT_OPTION_IMAGES) || size <= 0 || !passes_filters())
		return;
	call = current_call(tid, bpf_ktime_get_boot_ns());
	if (!call || call->event != event || call->image_state)
		return;
	if (file) {
		call->read_dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
		call->read_ino = BPF_CORE_READ(file, f_inode, i_ino);
		call->read_flags = file_flags(file);
		call->read_seen = 1;
	}
	walk.size = size;
	walk.id = call->call_id;
	bpf_loop((walk.size + MT_CHUNK_BYTES - 1) / MT_CHUNK_BYTES, send_chunk, &walk, 0);
	call->image_size = walk.size;
	call->image_sent = walk.sent;
	call->image_state = walk.sent == walk.size ? MT_IMAGE_SENT : MT_IMAGE_RING_FULL;
}

#endif
