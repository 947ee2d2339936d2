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
	/* Slots are not cleared: each event sets every slot it uses, and the
	 * lengths bound what is read of them. */
	__builtin_memset(rec, 0, sizeof(*rec) - sizeof(rec->str));
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

static __always_inline void emit(struct mt_record *rec)
{
	bool attempt = rec->ret < 0 && rec->event <= MT_EVENT_DELETE_MODULE;

	if (attempt) {
		if (bpf_ringbuf_output(&events, rec, sizeof(*rec), 0))
			count(MT_COUNTER_LOST_RINGBUF);
	} else if (bpf_ringbuf_output(&priority_events, rec, sizeof(*rec), 0)) {
		count(MT_COUNTER_LOST_PRIORITY);
	}
}

/* A call's record waits in an in-flight map, keyed by thread id, from the
 * entry hook (where arguments are read) to the exit hook (the return value). */
static __always_inline void park(void *inflight_map, struct mt_record *rec)
{
	u32 tid = rec->host_tid;

	if (bpf_map_update_elem(inflight_map, &tid, rec, BPF_ANY))
		count(MT_COUNTER_LOST_INFLIGHT);
}

/* At the exit hook: the parked record of this thread, sent with ret. */
static __always_inline void emit_parked(void *inflight_map, long ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct mt_record *rec = bpf_map_lookup_elem(inflight_map, &tid);

	if (!rec)
		return;
	rec->ret = ret;
	emit(rec);
	bpf_map_delete_elem(inflight_map, &tid);
}

#endif
