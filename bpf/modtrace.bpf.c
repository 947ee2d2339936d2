/* Every program modtrace can attach. The loader turns autoload off for the
 * ones this kernel cannot take or the chosen attach mode does not use, so one
 * object serves a kernel without modules (raw_syscalls only) as well as one
 * with fentry, kprobes and the module tracepoints. */
#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "events.h"
#include "syscalls.h"
#include "maps.h"
#include "config.h"
#include "context.h"
#include "strings.h"
#include "cgroup.h"
#include "ancestry.h"
#include "record.h"
#include "syscall_record.h"
#include "module_record.h"
#include "helper_record.h"
#include "image.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The syscall's first five arguments (kexec_file_load has five; the
 * records keep the ones the catalogue names, syscall_record.h). */
#define CALL_ARGS(regs) \
	MT_SYSCALL_ARG0(regs), MT_SYSCALL_ARG1(regs), MT_SYSCALL_ARG2(regs), MT_SYSCALL_ARG3(regs), MT_SYSCALL_ARG4(regs)
#define CALL32_ARGS(regs) \
	MT_SYSCALL32_ARG0(regs), MT_SYSCALL32_ARG1(regs), MT_SYSCALL32_ARG2(regs), MT_SYSCALL32_ARG3(regs), MT_SYSCALL32_ARG4(regs)
/* The arguments by the entry the call came through (see syscalls.h). */
#define ENTRY_ARG(compat, regs, i) ((compat) ? MT_SYSCALL32_ARG##i(regs) : MT_SYSCALL_ARG##i(regs))
#define ENTRY_ARGS(compat, regs) \
	ENTRY_ARG(compat, regs, 0), ENTRY_ARG(compat, regs, 1), ENTRY_ARG(compat, regs, 2), \
	ENTRY_ARG(compat, regs, 3), ENTRY_ARG(compat, regs, 4)

/* --attach raw: every syscall on the host passes through sys_exit, so it is
 * tp_btf (typed arguments, plain loads) and the only program by default:
 * the arguments are still in the saved registers at exit. sys_enter is
 * attached only for --read-at entry. Both entries come through here, the
 * 32-bit one with i386 numbers, told apart by the thread's status. */
SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long nr)
{
	bool compat = false;
	int event = event_of_current_syscall(nr, &compat);

	if (event)
		start_call(event, MT_HOOK_RAW_SYSCALLS, compat, ENTRY_ARGS(compat, regs));
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	bool compat = false;
	int event = event_of_current_syscall(MT_SYSCALL_NR(regs), &compat);

	if (event)
		finish_call(event, MT_HOOK_RAW_SYSCALLS, compat, ENTRY_ARGS(compat, regs), ret);
	return 0;
}

/* --attach fentry: only the module syscalls pay. The syscall functions take
 * the user registers: the x86_64 entry's (__x64_sys_*) and, where the kernel
 * has it, the 32-bit entry's (i386 argument registers; MT_SYSCALL32_EVENTS
 * names its function), each program pair named fentry<TAG>_<name> /
 * fexit<TAG>_<name>. */
#define FENTRY_PAIR(EVENT, name, TAG, FUNCTION, COMPAT, ARGS)                            \
	SEC("fentry/" FUNCTION)                                                          \
	int BPF_PROG(fentry##TAG##_##name, struct pt_regs *regs)                         \
	{                                                                                \
		start_call(MT_EVENT_##EVENT, MT_HOOK_FENTRY, COMPAT, ARGS(regs));        \
		return 0;                                                                \
	}                                                                                \
	SEC("fexit/" FUNCTION)                                                           \
	int BPF_PROG(fexit##TAG##_##name, struct pt_regs *regs, long ret)                \
	{                                                                                \
		finish_call(MT_EVENT_##EVENT, MT_HOOK_FENTRY, COMPAT, ARGS(regs), ret);  \
		return 0;                                                                \
	}
#define FENTRY_SYSCALL(EVENT, name) FENTRY_PAIR(EVENT, name, , MT_SYSCALL_PREFIX #name, false, CALL_ARGS)
#define FENTRY_SYSCALL32(EVENT, name, FUNCTION) FENTRY_PAIR(EVENT, name, 32, FUNCTION, true, CALL32_ARGS)

MT_SYSCALL_EVENTS(FENTRY_SYSCALL)
MT_SYSCALL32_EVENTS(FENTRY_SYSCALL32)

/* --attach kprobe: the same through kprobes on the syscall functions; at the
 * return, the arguments come from the thread's saved user registers. */
#define KPROBE_SYSCALL(EVENT, name)                                                      \
	SEC("ksyscall/" #name)                                                           \
	int BPF_KSYSCALL(ksyscall_##name, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)        \
	{                                                                                \
		start_call(MT_EVENT_##EVENT, MT_HOOK_KPROBE, false, a0, a1, a2, a3, a4); \
		return 0;                                                                \
	}                                                                                \
	SEC("kretsyscall/" #name)                                                        \
	int BPF_KRETPROBE(kretsyscall_##name, long ret)                                  \
	{                                                                                \
		struct pt_regs *regs = user_regs();                                      \
		finish_call(MT_EVENT_##EVENT, MT_HOOK_KPROBE, false, CALL_ARGS(regs), ret); \
		return 0;                                                                \
	}

MT_SYSCALL_EVENTS(KPROBE_SYSCALL)

/* The 32-bit entry's functions through kprobes, where the kernel has them:
 * the same records, marked MT_FLAG_COMPAT, with the i386 argument registers
 * (ksyscall sections name only the native entry's functions). */
#define KPROBE_SYSCALL32(EVENT, name, FUNCTION)                                          \
	SEC("kprobe/" FUNCTION)                                                          \
	int BPF_KPROBE(kprobe32_##name, struct pt_regs *regs)                            \
	{                                                                                \
		start_call(MT_EVENT_##EVENT, MT_HOOK_KPROBE, true, CALL32_ARGS(regs));   \
		return 0;                                                                \
	}                                                                                \
	SEC("kretprobe/" FUNCTION)                                                       \
	int BPF_KRETPROBE(kretprobe32_##name, long ret)                                  \
	{                                                                                \
		struct pt_regs *regs = user_regs();                                      \
		finish_call(MT_EVENT_##EVENT, MT_HOOK_KPROBE, true, CALL32_ARGS(regs), ret); \
		return 0;                                                                \
	}

MT_SYSCALL32_EVENTS(KPROBE_SYSCALL32)

SEC("tp_btf/module_load")
int BPF_PROG(tp_module_load, struct module *mod)
{
	struct mt_record *rec = begin_module_event(MT_EVENT_MODULE_LOAD, MT_HOOK_TRACEPOINT, mod, NULL);

	if (rec)
		emit(rec);
	return 0;
}

SEC("tp_btf/module_free")
int BPF_PROG(tp_module_free, struct module *mod)
{
	struct mt_record *rec = begin_module_event(MT_EVENT_MODULE_FREE, MT_HOOK_TRACEPOINT, mod, NULL);

	if (rec)
		emit(rec);
	return 0;
}

SEC("tp_btf/module_request")
int BPF_PROG(tp_module_request, char *name, bool wait, unsigned long ip)
{
	struct mt_record *rec = begin_module_event(MT_EVENT_MODULE_REQUEST, MT_HOOK_TRACEPOINT, NULL, NULL);

	if (!rec)
		return 0;
	read_kernel_string(rec, MT_SLOT_ARG, name);
	rec->args[0] = wait;
	emit(rec);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_call_usermodehelper, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	record_helper(p, bprm);
	return 0;
}

/* do_init_module: on failure it frees the module before returning, so all
 * of it is read at entry and kept by thread id until the return value. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mt_record_buf);
} init_inflight SEC(".maps");

static __always_inline void start_init(struct module *mod, int hook)
{
	begin_module_event(MT_EVENT_DO_INIT_MODULE, hook, mod, &init_inflight);
}

static __always_inline void finish_init(int ret)
{
	struct mt_record *rec = parked_record(&init_inflight);

	if (rec)
		send_with_return(rec, ret);
}

SEC("fentry/do_init_module")
int BPF_PROG(fentry_do_init_module, struct module *mod)
{
	start_init(mod, MT_HOOK_FENTRY);
	return 0;
}

SEC("fexit/do_init_module")
int BPF_PROG(fexit_do_init_module, struct module *mod, int ret)
{
	finish_init(ret);
	return 0;
}

SEC("kprobe/do_init_module")
int BPF_KPROBE(kprobe_do_init_module, struct module *mod)
{
	start_init(mod, MT_HOOK_KPROBE);
	return 0;
}

SEC("kretprobe/do_init_module")
int BPF_KRETPROBE(kretprobe_do_init_module, int ret)
{
	finish_init(ret);
	return 0;
}

/* Images (bpf/image.h), at the security hooks that are handed the whole
 * image: finit_module's file as the kernel read it, init_module's copy of
 * the caller's memory, and the kernel kexec_file_load stages. Each is taken
 * only inside the call that hands it over (firmware, policies and the kexec
 * initramfs pass here too). */
static __always_inline int event_reading(enum kernel_read_file_id id)
{
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_MODULE))
		return MT_EVENT_FINIT_MODULE;
	if (bpf_core_enum_value_exists(enum kernel_read_file_id, READING_KEXEC_IMAGE) &&
	    id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_IMAGE))
		return MT_EVENT_KEXEC_FILE_LOAD;
	return 0;
}

static __always_inline int event_loading(enum kernel_load_data_id id)
{
	return id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_MODULE) ? MT_EVENT_INIT_MODULE : 0;
}

/* The same pair through fentry, or kprobes where fentry is missing. */
#define IMAGE_HOOKS(prefix, section, PROG)                                                         \
	SEC(section "/security_kernel_post_read_file")                                             \
	int PROG(prefix##_image_read, struct file *file, char *buf, s64 size, enum kernel_read_file_id id) \
	{                                                                                          \
		int event = event_reading(id);                                                     \
		if (event)                                                                         \
			stream_image(event, buf, size, file);                                      \
		return 0;                                                                          \
	}                                                                                          \
	SEC(section "/security_kernel_post_load_data")                                             \
	int PROG(prefix##_image_load, char *buf, s64 size, enum kernel_load_data_id id)            \
	{                                                                                          \
		int event = event_loading(id);                                                     \
		if (event)                                                                         \
			stream_image(event, buf, size, NULL);                                      \
		return 0;                                                                          \
	}

IMAGE_HOOKS(fentry, "fentry", BPF_PROG)
IMAGE_HOOKS(kprobe, "kprobe", BPF_KPROBE)
