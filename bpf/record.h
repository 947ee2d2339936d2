/* Starting and sending a record: the steps every event shares. */
#ifndef MODTRACE_RECORD_H
#define MODTRACE_RECORD_H

/* A zeroed record in per-CPU scratch with the process context filled in, or
 * NULL when the event is not wanted or the process is filtered out. */
static __always_inline struct mt_record *begin_record(int event, int hook)
{
	u32 zero = 0;
	struct mt_config *cfg = bpf_map_lookup_elem(&config, &zero);
	struct mt_record *rec;
	struct task_struct *task;
	struct file *exe;

	if (!cfg || !(cfg->event_mask & (1u << event)))
		return NULL;
	if (!passes_filters(cfg)) {
		count(MT_COUNTER_FILTERED);
		return NULL;
	}
	rec = bpf_map_lookup_elem(&scratch_record, &zero);
	if (!rec)
		return NULL;
	/* String bytes are not cleared: offsets and lengths bound what is read. */
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->size = sizeof(*rec);
	rec->version = MT_LAYOUT_VERSION;
	rec->event = event;
	rec->hook = hook;
	task = (struct task_struct *)bpf_get_current_task();
	fill_context(rec, task);
	exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe)
		read_path(rec, MT_SLOT_EXE, &exe->f_path);
	else
		set_slot(rec, MT_SLOT_EXE, 0, MT_STR_ABSENT);
	return rec;
}

/* Sends the record, only as long as its strings: straight from where it was
 * built into the ring, the one copy. */
static __always_inline void emit(struct mt_record *rec)
{
	bool attempt = rec->ret < 0 && rec->event <= MT_EVENT_DELETE_MODULE;
	u32 size = (rec->size + 7) & ~7u;

	if (size > MT_RECORD_MAX)
		return; /* cannot happen: every slot is bounded */
	rec->size = size;
	if (attempt) {
		if (bpf_ringbuf_output(&events, rec, size, 0))
			count(MT_COUNTER_LOST_RINGBUF);
	} else if (bpf_ringbuf_output(&priority_events, rec, size, 0)) {
		count(MT_COUNTER_LOST_PRIORITY);
	}
}

/* A record that must wait for a return value, kept by thread id from the
 * entry hook (where it is read) to the exit hook. */
static __always_inline void park(void *inflight_map, struct mt_record *rec)
{
	u32 tid = rec->host_tid;

	if (bpf_map_update_elem(inflight_map, &tid, rec, BPF_ANY))
		count(MT_COUNTER_LOST_INFLIGHT);
}

#endif
