/* Events the kernel raises about a module (load, free, init, autoload
 * request), tied to the module syscall that caused them when there is one. */
#ifndef MODTRACE_MODULE_RECORD_H
#define MODTRACE_MODULE_RECORD_H

#include "syscall_record.h"

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

/* module_load's code range, into args[0] (base) and args[1] (size): what
 * ties a hook's target to the module that owns it even after the module has
 * left the module list and kallsyms (findings/watches/module-ranges.ts). */
static __always_inline void read_module_code(struct mt_record *rec, struct module *mod)
{
	struct module___mem *mem = (void *)mod;
	struct module___core_layout *core = (void *)mod;

	if (bpf_core_field_exists(mem->mem)) {
		rec->args[0] = (u64)BPF_CORE_READ(mem, mem[0].base);
		rec->args[1] = BPF_CORE_READ(mem, mem[0].size);
	} else if (bpf_core_field_exists(core->core_layout)) {
		rec->args[0] = (u64)BPF_CORE_READ(core, core_layout.base);
		rec->args[1] = BPF_CORE_READ(core, core_layout.text_size);
	}
	if (rec->args[0])
		rec->flags |= MT_FLAG_CODE_RANGE;
}

/* The captured module syscall this thread is in, if any. Its entry hook
 * made the entry; when only its exit is hooked, the first kernel event (or
 * image) of the call makes it, from the syscall number the thread entered
 * with, with `now` as the call's id. */
static __always_inline struct mt_call *current_call(u32 tid, u64 now)
{
	struct mt_call *call = bpf_map_lookup_elem(&calls, &tid);
	struct mt_call fresh = {};
	bool compat = false;
	int event;

	if (call)
		return call;
	if (!bpf_get_current_task_btf()->mm)
		return NULL; /* a kernel thread has no syscall */
	event = event_of_current_syscall(MT_SYSCALL_NR(user_regs()), &compat);
	/* Only a captured syscall's exit hook removes the entry again. */
	if (!event || !(attached.event_mask & (1u << event)))
		return NULL;
	fresh.call_id = now;
	fresh.event = event;
	if (bpf_map_update_elem(&calls, &tid, &fresh, BPF_NOEXIST) && !bpf_map_lookup_elem(&calls, &tid))
		count(MT_COUNTER_CALLS_UNTRACKED); /* the map is full: see maps.h */
	return bpf_map_lookup_elem(&calls, &tid);
}

/* Is the current thread in init_module or finit_module, through either
 * entry, captured or not? The kernel loads a module only from these two
 * calls, so a module_load anywhere else came by a way modtrace does not know. */
static __always_inline bool in_load_syscall(void)
{
	bool compat = false;
	int event;

	if (!bpf_get_current_task_btf()->mm)
		return false; /* a kernel thread is in no syscall */
	event = event_of_current_syscall(MT_SYSCALL_NR(user_regs()), &compat);
	return event == MT_EVENT_INIT_MODULE || event == MT_EVENT_FINIT_MODULE;
}

/* A kernel-side event for this module: started, tied to the syscall in
 * flight on this thread (which learns the kernel's name for the module). */
static __always_inline struct mt_record *begin_module_event(int event, int hook, struct module *mod, void *parking)
{
	struct mt_record *rec = begin_record(event, hook, parking, true);
	struct mt_call *call;

	if (!rec)
		return NULL;
	if (mod)
		read_module(rec, mod);
	call = current_call(rec->host_tid, rec->boot_ns);
	if (event == MT_EVENT_MODULE_LOAD) {
		add_image(rec, call);
		read_module_code(rec, mod);
	}
	if (!call) {
		if (event == MT_EVENT_MODULE_LOAD && !in_load_syscall())
			rec->flags |= MT_FLAG_NO_LOAD_CALL;
		return rec;
	}
	rec->call_id = call->call_id;
	rec->flags |= MT_FLAG_IN_SYSCALL;
	if (call->event == MT_EVENT_FINIT_MODULE && event == MT_EVENT_MODULE_LOAD) {
		struct pt_regs *regs = user_regs();

		read_fd_file(rec, (struct task_struct *)bpf_get_current_task(),
			     (int)(in_compat_syscall_now() ? MT_SYSCALL32_ARG0(regs) : MT_SYSCALL_ARG0(regs)));
		if (call->read_seen)
			check_read_file(rec, call);
	}
	if (mod && (event == MT_EVENT_MODULE_LOAD || event == MT_EVENT_MODULE_FREE)) {
		long n = bpf_probe_read_kernel_str(call->module, MT_MODULE_LEN, mod->name);

		call->module_len = n > 0 ? n - 1 : 0;
		call->module_state = n > 0 ? MT_STR_OK : MT_STR_FAULT;
	}
	return rec;
}

#endif
