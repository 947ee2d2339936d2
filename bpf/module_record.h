/* Events the kernel raises about a module (load, free, init, autoload
 * request), tied to the module syscall that caused them when there is one. */
#ifndef MODTRACE_MODULE_RECORD_H
#define MODTRACE_MODULE_RECORD_H

static __always_inline void read_kernel_string(struct mt_record *rec, int slot, const void *kptr)
{
	long n;

	if (!kptr) {
		set_slot(rec, slot, 0, MT_STR_ABSENT);
		return;
	}
	n = bpf_probe_read_kernel_str(rec->str[slot], MT_STR_LEN, kptr);
	set_slot(rec, slot, n > 0 ? n - 1 : 0, n > 0 ? MT_STR_OK : MT_STR_FAULT);
}

static __always_inline void read_module(struct mt_record *rec, struct module *mod)
{
	read_kernel_string(rec, MT_SLOT_MODULE, mod->name);
	read_kernel_string(rec, MT_SLOT_VERSION, BPF_CORE_READ(mod, version));
	read_kernel_string(rec, MT_SLOT_SRCVERSION, BPF_CORE_READ(mod, srcversion));
	rec->taints = BPF_CORE_READ(mod, taints);
	if (bpf_core_field_exists(mod->sig_ok)) {
		rec->flags |= MT_FLAG_SIG_OK_KNOWN;
		if (BPF_CORE_READ(mod, sig_ok))
			rec->flags |= MT_FLAG_SIG_OK;
	}
}

/* A kernel-side event for this module: started, tied to the syscall in
 * flight on this thread (whose record learns the kernel's name for it). */
static __always_inline struct mt_record *begin_module_event(int event, int hook, struct module *mod)
{
	struct mt_record *rec = begin_record(event, hook);
	struct mt_record *call;
	u32 tid;

	if (!rec)
		return NULL;
	if (mod)
		read_module(rec, mod);
	tid = rec->host_tid;
	call = bpf_map_lookup_elem(&inflight, &tid);
	if (!call)
		return rec;
	rec->call_id = call->call_id;
	rec->flags |= MT_FLAG_IN_SYSCALL;
	if (call->event == MT_EVENT_FINIT_MODULE) {
		__builtin_memcpy(rec->str[MT_SLOT_FILE], call->str[MT_SLOT_FILE], MT_STR_LEN);
		rec->str_len[MT_SLOT_FILE] = call->str_len[MT_SLOT_FILE];
		rec->str_state[MT_SLOT_FILE] = call->str_state[MT_SLOT_FILE];
		rec->file_dev = call->file_dev;
		rec->file_ino = call->file_ino;
	}
	if (mod && (event == MT_EVENT_MODULE_LOAD || event == MT_EVENT_MODULE_FREE)) {
		__builtin_memcpy(call->str[MT_SLOT_MODULE], rec->str[MT_SLOT_MODULE], MT_STR_LEN);
		call->str_len[MT_SLOT_MODULE] = rec->str_len[MT_SLOT_MODULE];
		call->str_state[MT_SLOT_MODULE] = rec->str_state[MT_SLOT_MODULE];
	}
	return rec;
}

#endif
