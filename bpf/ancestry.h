/* The caller's ancestors, read at the call: a parent that exits right after
 * (a short-lived sudo, a cron job's shell) is gone before user space could
 * look it up in /proc. Bounded: at most MT_ANCESTORS, the parent first. */
#ifndef MODTRACE_ANCESTRY_H
#define MODTRACE_ANCESTRY_H

#include "config.h"
#include "strings.h"

#define MT_SEEN (MT_ANCESTORS + 1) /* executables seen: the caller's, then each ancestor's */
#define MT_SEEN_MASK 15                /* a power of two above MT_SEEN, for the verifier */

/* The executables seen so far, to store a path once however many ancestors
 * ran it (sh above sh above sh). Per-CPU scratch: on the stack it took the
 * walk past the 512 bytes the verifier allows all frames together. */
struct exe_seen {
	struct dentry *dentry[MT_SEEN_MASK + 1];
	struct vfsmount *mnt[MT_SEEN_MASK + 1];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct exe_seen);
} scratch_seen SEC(".maps");

struct ancestry_walk {
	struct mt_record *rec;
	struct task_struct *task; /* the last process recorded: the next one is its parent */
	struct exe_seen *seen;
};

static __always_inline int exe_slot(u32 seen)
{
	return seen ? MT_SLOT_ANCESTOR_EXE + bounded(seen - 1, MT_ANCESTORS - 1) : MT_SLOT_EXE;
}

/* Ancestor i's executable into its slot: a slot that points at the bytes
 * of an earlier one with the same path, or a path read now. */
static __always_inline void ancestor_exe(struct ancestry_walk *w, struct task_struct *t, u32 i)
{
	struct mt_record *rec = w->rec;
	int slot = MT_SLOT_ANCESTOR_EXE + bounded(i, MT_ANCESTORS - 1);
	struct file *exe = t->mm->exe_file; /* a kernel thread's NULL mm loads as NULL */
	struct dentry *dentry = NULL;
	struct vfsmount *mnt = NULL;

	if (!exe) {
		set_slot(rec, slot, 0, MT_STR_ABSENT);
		goto seen; /* NULL: matches no later executable */
	}
	dentry = exe->f_path.dentry;
	mnt = exe->f_path.mnt;
	for (u32 j = 0; j < MT_SEEN; j++) {
		int from;

		if (j > i)
			break;
		if (w->seen->dentry[j] != dentry || w->seen->mnt[j] != mnt)
			continue;
		from = exe_slot(j);
		rec->str_off[slot] = rec->str_off[from];
		rec->str_len[slot] = rec->str_len[from];
		rec->str_state[slot] = rec->str_state[from];
		goto seen;
	}
	read_typed_path(rec, slot, &exe->f_path, t);
seen:
	w->seen->dentry[bounded(i + 1, MT_SEEN_MASK)] = dentry;
	w->seen->mnt[bounded(i + 1, MT_SEEN_MASK)] = mnt;
}

/* One ancestor, as a bpf_loop callback. */
static long ancestor_step(u32 i, struct ancestry_walk *w)
{
	struct mt_record *rec = w->rec;
	struct task_struct *t = w->task->real_parent->group_leader;
	struct mt_ancestor *a;

	/* Above the host's init is the idle task (pid 0); it is nobody's caller. */
	if (!t || t->pid == 0 || t == w->task)
		return 1;
	/* --ancestors, a constant to the verifier: with 0, the rest of this step is never verified. */
	if (i >= config.ancestors || i >= MT_ANCESTORS) {
		rec->context |= MT_CONTEXT_ANCESTRY_CUT;
		return 1;
	}
	a = &rec->ancestors[bounded(i, MT_ANCESTORS - 1)];
	a->host_pid = t->tgid;
	a->start_ns = t->start_boottime;
	/* Two plain loads, not a helper call: the verifier checks them against task_struct.comm. */
	((u64 *)a->comm)[0] = *(u64 *)&t->comm[0];
	((u64 *)a->comm)[1] = *(u64 *)&t->comm[8];
	ancestor_exe(w, t, i);
	rec->ancestor_count = i + 1;
	w->task = t;
	return 0;
}

/* A global function, verified once. */
__noinline int fill_ancestry(struct mt_record_buf *buf)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file *exe = task->mm->exe_file;
	u32 zero = 0;
	struct ancestry_walk w = {
		.rec = &buf->rec,
		.task = task->group_leader,
		.seen = bpf_map_lookup_elem(&scratch_seen, &zero),
	};

	if (!buf || !w.seen)
		return 0;
	/* Each later entry is written (NULL for no executable) before it is compared. */
	w.seen->dentry[0] = exe ? exe->f_path.dentry : NULL;
	w.seen->mnt[0] = exe ? exe->f_path.mnt : NULL;
	bpf_loop(MT_ANCESTORS + 1, ancestor_step, &w, 0);
	return 0;
}

#endif
