/* Starting and sending a record: the steps every event shares. */
#ifndef MODTRACE_RECORD_H
#define MODTRACE_RECORD_H

#include "context.h"
#include "cgroup.h"
#include "ancestry.h"

/* Where a record is built, and sent from: per-CPU scratch when the same
 * program sends it, or the thread's own slot in `parking` (a task storage
 * map) when it waits there for the thread's exit hook. Either way it reaches
 * the ring in one copy. */
static __always_inline struct mt_record *record_buffer(void *parking)
{
	u32 zero = 0;
	struct mt_record *rec;

	if (!parking)
		return bpf_map_lookup_elem(&scratch_record, &zero);
	rec = bpf_task_storage_get(parking, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!rec)
		count(MT_COUNTER_LOST_INFLIGHT);
	return rec;
}

/* The record parked in `parking` for this thread, or NULL. */
static __always_inline struct mt_record *parked_record(void *parking)
{
	struct mt_record *rec = bpf_task_storage_get(parking, bpf_get_current_task_btf(), 0, 0);

	return rec && rec->size ? rec : NULL;
}

/* A zeroed record with the process context filled in (see record_buffer()),
 * or NULL when the event is not wanted or the process is filtered out.
 * count_filtered: whether a filtered-out caller counts here; a syscall read at
 * its entry is judged again at its exit, which alone counts it, so one call
 * is one event dropped. */
static __always_inline struct mt_record *begin_record(int event, int hook, void *parking, bool count_filtered)
{
	struct mt_record *rec;
	struct task_struct *task;
	struct file *exe;

	if (!(attached.event_mask & (1u << event)))
		return NULL;
	if (!passes_filters()) {
		if (count_filtered)
			count(MT_COUNTER_FILTERED);
		return NULL;
	}
	rec = record_buffer(parking);
	if (!rec)
		return NULL;
	/* String bytes are not cleared: offsets and lengths bound what is read. */
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->size = sizeof(*rec);
	rec->version = MT_LAYOUT_VERSION;
	rec->event = event;
	rec->hook = hook;
	task = bpf_get_current_task_btf();
	fill_context((struct mt_record_buf *)rec);
	exe = task->mm->exe_file; /* a kernel thread's NULL mm loads as NULL */
	if (exe)
		read_typed_path(rec, MT_SLOT_EXE, &exe->f_path, task);
	else
		set_slot(rec, MT_SLOT_EXE, 0, MT_STR_ABSENT);
	read_cgroup_path((struct mt_record_buf *)rec);
	fill_ancestry((struct mt_record_buf *)rec);
	return rec;
}

/* A load event (init_module, finit_module, module_load): what became of the
 * image the call handed the kernel, as the image hook left it in `call`. */
static __always_inline void add_image(struct mt_record *rec, const struct mt_call *call)
{
	if (call && call->image_state) {
		rec->image_state = call->image_state;
		rec->image_size = call->image_size;
		rec->image_sent = call->image_sent;
	} else if (!(attached.options & MT_OPTION_IMAGES)) {
		rec->image_state = MT_IMAGE_NO_HOOK;
	}
}

/* Waking the reader costs the writer an interrupt (a self-IPI, dearer still
 * in a VM), which the kernel's default sends for nearly every record of a
 * burst while the reader keeps up: the bulk ring wakes it once per
 * MT_WAKEUP_BYTES instead, and the reader polls every 100 ms for a tail
 * smaller than that. What changed the kernel (the priority ring) wakes it at once. */
static __always_inline u64 bulk_wakeup(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= MT_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Sends the record, only as long as its strings: straight from where it was
 * built into the ring, the one copy. */
static __always_inline void emit(struct mt_record *rec)
{
	/* A failed syscall, or an autoload request and the helper the kernel
	 * runs for it, which any user can cause (a socket of an unloaded
	 * family): the bulk ring, which a flood of them may fill without
	 * costing a load or an unload its record. */
	bool syscall = rec->event < 32 && (MT_SYSCALL_EVENT_BITS & (1u << rec->event));
	/* modtrace's own heartbeat calls fail on purpose, and must not be lost to a flood. */
	bool heartbeat = config.self_tgid && rec->host_pid == config.self_tgid;
	bool attempt = ((rec->ret < 0 && syscall) || rec->event == MT_EVENT_MODULE_REQUEST || rec->event == MT_EVENT_CALL_USERMODEHELPER) && !heartbeat;
	u32 size = (rec->size + 7) & ~7u;

	/* One register for the size checked and the size sent: without the
	 * barrier clang may check a copy, and the verifier rejects the send
	 * as unbounded (it did once attempt took two tests). */
	barrier_var(size);
	if (size > MT_RECORD_MAX)
		return; /* cannot happen: every slot is bounded */
	rec->size = size;
	if (attempt) {
		if (bpf_ringbuf_output(&events, rec, size, bulk_wakeup()))
			count(MT_COUNTER_LOST_RINGBUF);
	} else if (bpf_ringbuf_output(&priority_events, rec, size, 0)) {
		count(MT_COUNTER_LOST_PRIORITY);
	}
}

/* A record sent with its return value; a parked one leaves its slot free. */
static __always_inline void send_with_return(struct mt_record *rec, long ret)
{
	rec->ret = ret;
	emit(rec);
	rec->size = 0;
}

#endif
