/* Reading strings into a record's slots: bounded, and always well formed
 * (NUL-terminated, length and state set) whatever the pointer holds. */
#ifndef MODTRACE_STRINGS_H
#define MODTRACE_STRINGS_H

#include <bpf/bpf_core_read.h>
#include "maps.h"

#define MT_SLOT_MASK (MT_STR_LEN - 1)
#define MT_SPACE_MASK (MT_STR_SPACE - 1)
_Static_assert((MT_STR_LEN & MT_SLOT_MASK) == 0, "MT_STR_LEN must be a power of two");
_Static_assert((MT_STR_SPACE & MT_SPACE_MASK) == 0, "MT_STR_SPACE must be a power of two");

/* Paths are assembled right to left, leaf first, ending at MT_PATH_HALF; the
 * second half lets the verifier see every masked write stay in the buffer. */
#define MT_PATH_HALF 1024
#define MT_PATH_MASK (MT_PATH_HALF - 1)
#define MT_PATH_DEPTH 32
#define MT_NAME_MASK 255 /* NAME_MAX */

struct path_buf {
	char bytes[MT_PATH_HALF * 2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct path_buf);
} scratch_path SEC(".maps");

/* v & mask, with v's known range hidden from the compiler: otherwise it may
 * drop a mask it thinks redundant, and the verifier needs to see it. */
static __always_inline u32 bounded(u32 v, u32 mask)
{
	asm volatile("" : "+r"(v));
	return v & mask;
}

/* Where the next string goes: strings are appended after the fixed part in
 * the order they are read, and rec->size is the cursor. The mask lets the
 * verifier see a whole MT_STR_LEN write stay inside struct mt_record_buf. */
static __always_inline char *next_string(struct mt_record *rec)
{
	return (char *)(rec + 1) + bounded(rec->size - sizeof(*rec), MT_SPACE_MASK);
}

/* Seals the string just written at next_string() into a slot. */
static __always_inline void set_slot(struct mt_record *rec, int slot, u32 len, u8 state)
{
	len = bounded(len, MT_SLOT_MASK);
	if (state != MT_STR_OK && state != MT_STR_TRUNCATED)
		len = 0;
	rec->str_off[slot] = rec->size;
	rec->str_len[slot] = len;
	rec->str_state[slot] = state;
	rec->size += len;
}

static __always_inline void read_user_string(struct mt_record *rec, int slot, const void *uptr)
{
	long n = bpf_probe_read_user_str(next_string(rec), MT_STR_LEN, uptr);
	char next = 0;

	/* Before 6.6-ish kernels an empty string gives 0, later ones 1 (the NUL). */
	if (n < 0) {
		set_slot(rec, slot, 0, MT_STR_FAULT);
		return;
	}
	if (n == 0) {
		set_slot(rec, slot, 0, MT_STR_OK);
		return;
	}
	/* A full slot is a cut string unless the byte it left out is the NUL. */
	if (n == MT_STR_LEN && !bpf_probe_read_user(&next, 1, uptr + MT_STR_LEN - 1) && next) {
		set_slot(rec, slot, n - 1, MT_STR_TRUNCATED);
		return;
	}
	set_slot(rec, slot, n - 1, MT_STR_OK);
}

static __always_inline void read_kernel_string(struct mt_record *rec, int slot, const void *kptr)
{
	long n;

	if (!kptr) {
		set_slot(rec, slot, 0, MT_STR_ABSENT);
		return;
	}
	n = bpf_probe_read_kernel_str(next_string(rec), MT_STR_LEN, kptr);
	set_slot(rec, slot, n > 0 ? n - 1 : 0, n > 0 ? MT_STR_OK : MT_STR_FAULT);
}

static __always_inline struct mount *real_mount(struct vfsmount *vfsmnt)
{
	return (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
}

struct path_walk {
	struct path_buf *buf;
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	u32 pos;  /* the path so far is buf->bytes[pos, MT_PATH_HALF) */
	bool cut; /* stopped before the root */
};

/* "/name" put in front of the path so far, buf->bytes[*pos, MT_PATH_HALF);
 * false when it does not fit (the walk stops there, the path cut). */
static __always_inline bool prepend_name(struct path_buf *buf, u32 *pos, u32 len, const unsigned char *name)
{
	u32 at = *pos;

	len &= MT_NAME_MASK;
	if (at > MT_PATH_HALF || len + 1 > at)
		return false;
	at -= len + 1;
	buf->bytes[bounded(at, MT_PATH_MASK)] = '/';
	bpf_probe_read_kernel(&buf->bytes[bounded(at + 1, MT_PATH_MASK)], len, name);
	*pos = at;
	return true;
}

/* One step up the tree, as a bpf_loop callback: verified once, not once per
 * iteration, which keeps the verifier's work flat in the path depth. */
static long path_step(u32 index, struct path_walk *w)
{
	/* Locals, not w->…: BPF_CORE_READ would relocate our own struct too. */
	struct dentry *dentry = w->dentry;
	struct mount *mnt = w->mnt;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct dentry *root = BPF_CORE_READ(vfsmnt, mnt_root);
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);

	if (dentry == root || dentry == parent) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		if (dentry != root || mnt == mnt_parent) {
			w->cut = false;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mnt_parent;
		w->vfsmnt = (void *)mnt_parent + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	if (!prepend_name(w->buf, &w->pos, BPF_CORE_READ(dentry, d_name.len), BPF_CORE_READ(dentry, d_name.name)))
		return 1;
	w->dentry = parent;
	return 0;
}

/* The walked path, buf->bytes[pos, MT_PATH_HALF), into the slot: its tail
 * when it is longer than a slot. */
static __always_inline void copy_path(struct mt_record *rec, int slot, struct path_buf *buf, u32 pos, bool cut)
{
	u32 len = MT_PATH_HALF - pos;

	if (len > MT_STR_LEN - 1) {
		pos = MT_PATH_HALF - (MT_STR_LEN - 1);
		len = MT_STR_LEN - 1;
		cut = true;
	}
	bpf_probe_read_kernel(next_string(rec), bounded(len, MT_SLOT_MASK), &buf->bytes[bounded(pos, MT_PATH_MASK)]);
	set_slot(rec, slot, len, cut ? MT_STR_TRUNCATED : MT_STR_OK);
}

/* The rest of a walk begun elsewhere, from dentry in mount mnt with the
 * path so far at scratch_path[pos, MT_PATH_HALF), and the slot it fills. A
 * global function: the verifier checks it once, where each inlined copy of
 * the walk's loop made loading the programs slower by tens of milliseconds. */
__noinline int finish_path(struct mt_record_buf *buf, int slot, u64 dentry, u64 vfsmnt, u32 pos)
{
	struct mt_record *rec = &buf->rec;
	u32 zero = 0;
	/* Kernel addresses come in as integers: a global function's pointer
	 * arguments are memory the verifier checks, and these are only read
	 * through helpers. */
	struct path_walk w = {
		.buf = bpf_map_lookup_elem(&scratch_path, &zero),
		.dentry = (struct dentry *)dentry,
		.vfsmnt = (struct vfsmount *)vfsmnt,
		.mnt = real_mount((struct vfsmount *)vfsmnt),
		.pos = pos,
		.cut = true,
	};

	if (!buf || slot < 0 || slot >= MT_SLOT_COUNT)
		return 0;
	slot = bounded(slot, 15); /* the check above, in a form the verifier keeps */
	if (!w.buf) {
		set_slot(rec, slot, 0, MT_STR_FAULT);
		return 0;
	}
	bpf_loop(MT_PATH_DEPTH, path_step, &w, 0);
	if (w.pos == MT_PATH_HALF) {
		/* Not in any mounted tree (memfd, pipe, anon inode): its name is all there is. */
		struct dentry *leaf = w.dentry;

		read_kernel_string(rec, slot, BPF_CORE_READ(leaf, d_name.name));
		return 0;
	}
	copy_path(rec, slot, w.buf, w.pos, w.cut);
	return 0;
}

/* d_path() without the helper (not allowed in tracepoint programs): walk the
 * dentries up to the root, crossing mount points. The tail of a long path
 * (the file name) is what is kept. path is a plain kernel address. */
static __always_inline void read_path(struct mt_record *rec, int slot, struct path *path)
{
	struct dentry *dentry = BPF_CORE_READ(path, dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);

	if (!dentry || !vfsmnt) {
		set_slot(rec, slot, 0, MT_STR_FAULT);
		return;
	}
	finish_path((struct mt_record_buf *)rec, slot, (u64)dentry, (u64)vfsmnt, MT_PATH_HALF);
}

struct typed_walk {
	struct path_buf *buf;
	struct dentry *dentry;
	struct dentry *root; /* of the path's mount */
	u32 pos;
};

/* One step up inside the path's own mount, through typed pointers: plain
 * loads, and one helper call for the name's bytes. */
static long typed_path_step(u32 index, struct typed_walk *w)
{
	struct dentry *dentry = w->dentry;
	struct dentry *parent = dentry->d_parent;

	if (dentry == w->root || dentry == parent)
		return 1;
	if (!prepend_name(w->buf, &w->pos, dentry->d_name.len, dentry->d_name.name))
		return 1;
	w->dentry = parent;
	return 0;
}

/* True when nothing is above the root of mount mnt: it is the root of the
 * task's mount namespace, or mounted right on that root's "/" (the host's
 * root, on a host booted through an initramfs: the initramfs is the
 * namespace's root, below it). */
static __always_inline bool nothing_above(struct vfsmount *mnt, struct vfsmount *plain_mnt, struct task_struct *task)
{
	struct mount *ns_root = task->nsproxy->mnt_ns->root;
	struct mount *m = real_mount(plain_mnt);

	if ((void *)mnt == (void *)&ns_root->mnt)
		return true;
	return (u64)BPF_CORE_READ(m, mnt_parent) == (u64)ns_root &&
	       (u64)BPF_CORE_READ(m, mnt_mountpoint) == (u64)ns_root->mnt.mnt_root;
}

/* read_path() for a path reached through typed pointers (the executable):
 * the walk inside its own mount takes plain loads, and ends there when
 * nothing is above that mount (nearly always); mount crossings above it go
 * on as read_path() does. */
static __always_inline void read_typed_path(struct mt_record *rec, int slot, struct path *path,
					    struct task_struct *task)
{
	u32 zero = 0;
	struct vfsmount *vfsmnt = path->mnt;
	struct typed_walk t = {
		.buf = bpf_map_lookup_elem(&scratch_path, &zero),
		.dentry = path->dentry,
		.root = vfsmnt->mnt_root,
		.pos = MT_PATH_HALF,
	};
	struct vfsmount *plain_vfsmnt;

	if (!t.buf || !t.dentry || !vfsmnt) {
		set_slot(rec, slot, 0, MT_STR_FAULT);
		return;
	}
	bpf_loop(MT_PATH_DEPTH, typed_path_step, &t, 0);
	plain_vfsmnt = BPF_CORE_READ(path, mnt);
	if (t.dentry == t.root && t.pos < MT_PATH_HALF && nothing_above(vfsmnt, plain_vfsmnt, task)) {
		copy_path(rec, slot, t.buf, t.pos, false);
		return;
	}
	if (t.dentry == t.root)
		/* At the mount's root: crossing into the mounts above is the plain walk's job. */
		finish_path((struct mt_record_buf *)rec, slot, (u64)BPF_CORE_READ(plain_vfsmnt, mnt_root), (u64)plain_vfsmnt, t.pos);
	else
		/* A dentry that is its own parent, or a path too deep: rare, and
		 * the plain walk from the start tells which. */
		finish_path((struct mt_record_buf *)rec, slot, (u64)BPF_CORE_READ(path, dentry), (u64)plain_vfsmnt, MT_PATH_HALF);
}

#endif
