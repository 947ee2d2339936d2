/* The caller's cgroup v2 path, from the kernfs nodes of its cgroup in the
 * default hierarchy: what /proc/PID/cgroup's "0::" line says, seen from the
 * initial cgroup namespace. User space tells containers apart by it. */
#ifndef MODTRACE_CGROUP_H
#define MODTRACE_CGROUP_H

#include "strings.h"

static __always_inline struct kernfs_node *kernfs_parent(struct kernfs_node *kn)
{
	struct kernfs_node___v615 *renamed = (void *)kn;

	if (bpf_core_field_exists(renamed->__parent))
		return BPF_CORE_READ(renamed, __parent);
	return BPF_CORE_READ(kn, parent);
}

struct cgroup_walk {
	struct path_buf *buf;
	struct kernfs_node *kn;
	u32 pos; /* the path so far is buf->bytes[pos, MT_PATH_HALF) */
	bool cut;
};

/* One level up, as a bpf_loop callback. A kernfs name carries no length:
 * it is read into the buffer's second half first, then put in front. */
static long cgroup_step(u32 index, struct cgroup_walk *w)
{
	struct kernfs_node *kn = w->kn;
	struct kernfs_node *parent = kernfs_parent(kn);
	char *name = &w->buf->bytes[MT_PATH_HALF];
	long n;

	if (!parent) {
		w->cut = false; /* kn is the hierarchy's root, which has no name in the path */
		return 1;
	}
	n = bpf_probe_read_kernel_str(name, MT_NAME_MASK + 1, BPF_CORE_READ(kn, name));
	if (n < 2 || !prepend_name(w->buf, &w->pos, n - 1, (const unsigned char *)name))
		return 1;
	w->kn = parent;
	return 0;
}

/* A global function, verified once. The path's tail is kept when it is
 * longer than a slot (the container's own cgroup is the leaf). */
__noinline int read_cgroup_path(struct mt_record_buf *buf)
{
	struct mt_record *rec = &buf->rec;
	struct task_struct *task = bpf_get_current_task_btf();
	u32 zero = 0;
	struct cgroup_walk w = {
		.buf = bpf_map_lookup_elem(&scratch_path, &zero),
		.kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn),
		.pos = MT_PATH_HALF,
		.cut = true,
	};

	if (!buf)
		return 0;
	if (!w.buf || !w.kn) {
		set_slot(rec, MT_SLOT_CGROUP, 0, MT_STR_FAULT);
		return 0;
	}
	bpf_loop(MT_PATH_DEPTH, cgroup_step, &w, 0);
	if (w.pos == MT_PATH_HALF) {
		if (w.cut) {
			set_slot(rec, MT_SLOT_CGROUP, 0, MT_STR_FAULT);
			return 0;
		}
		w.pos = MT_PATH_HALF - 1; /* the root cgroup */
		w.buf->bytes[MT_PATH_HALF - 1] = '/';
	}
	copy_path(rec, MT_SLOT_CGROUP, w.buf, w.pos, w.cut);
	return 0;
}

#endif
