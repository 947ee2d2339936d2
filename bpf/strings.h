/* Reading strings into a record's slots: bounded, and always well formed
 * (NUL-terminated, length and state set) whatever the pointer holds. */
#ifndef MODTRACE_STRINGS_H
#define MODTRACE_STRINGS_H

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
	u32 len, pos = w->pos;

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
	len = BPF_CORE_READ(dentry, d_name.len) & MT_NAME_MASK;
	if (pos > MT_PATH_HALF || len + 1 > pos)
		return 1;
	pos -= len + 1;
	w->buf->bytes[bounded(pos, MT_PATH_MASK)] = '/';
	bpf_probe_read_kernel(&w->buf->bytes[bounded(pos + 1, MT_PATH_MASK)], len,
			      BPF_CORE_READ(dentry, d_name.name));
	w->pos = pos;
	w->dentry = parent;
	return 0;
}

/* d_path() without the helper (not allowed in tracepoint programs): walk the
 * dentries up to the root, crossing mount points. The tail of a long path
 * (the file name) is what is kept. */
static __always_inline void read_path(struct mt_record *rec, int slot, struct path *path)
{
	u32 zero = 0, len, start;
	struct path_walk w = {
		.buf = bpf_map_lookup_elem(&scratch_path, &zero),
		.dentry = BPF_CORE_READ(path, dentry),
		.vfsmnt = BPF_CORE_READ(path, mnt),
		.pos = MT_PATH_HALF,
		.cut = true,
	};

	if (!w.buf || !w.dentry || !w.vfsmnt) {
		set_slot(rec, slot, 0, MT_STR_FAULT);
		return;
	}
	w.mnt = real_mount(w.vfsmnt);
	bpf_loop(MT_PATH_DEPTH, path_step, &w, 0);
	if (w.pos == MT_PATH_HALF) {
		/* Not in any mounted tree (memfd, pipe, anon inode): its name is all there is. */
		struct dentry *leaf = w.dentry;

		read_kernel_string(rec, slot, BPF_CORE_READ(leaf, d_name.name));
		return;
	}
	len = MT_PATH_HALF - w.pos;
	start = w.pos;
	if (len > MT_STR_LEN - 1) {
		start = MT_PATH_HALF - (MT_STR_LEN - 1);
		len = MT_STR_LEN - 1;
		w.cut = true;
	}
	bpf_probe_read_kernel(next_string(rec), bounded(len, MT_SLOT_MASK),
			      &w.buf->bytes[bounded(start, MT_PATH_MASK)]);
	set_slot(rec, slot, len, w.cut ? MT_STR_TRUNCATED : MT_STR_OK);
}

#endif
