/* init_module, finit_module and delete_module through the raw_syscalls
 * tracepoints: the hook every kernel has, modules or not (on a kernel built
 * without modules the calls still happen, and fail with ENOSYS). */
#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "events.h"
#include "syscalls.h"
#include "maps.h"
#include "context.h"
#include "strings.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline int event_of_syscall(long nr)
{
	switch (nr) {
	case MT_NR_INIT_MODULE:
		return MT_EVENT_INIT_MODULE;
	case MT_NR_FINIT_MODULE:
		return MT_EVENT_FINIT_MODULE;
	case MT_NR_DELETE_MODULE:
		return MT_EVENT_DELETE_MODULE;
	}
	return 0;
}

static __always_inline void read_fd_file(struct mt_record *rec, struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;

	if (fd >= 0 && fd < BPF_CORE_READ(fdt, max_fds))
		bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	if (!file) {
		set_slot(rec, MT_SLOT_FILE, 0, MT_STR_FAULT);
		return;
	}
	rec->file_dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	rec->file_ino = BPF_CORE_READ(file, f_inode, i_ino);
	read_path(rec, MT_SLOT_FILE, &file->f_path);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long nr)
{
	int event = event_of_syscall(nr);
	u32 zero = 0, tid;
	struct mt_config *cfg;
	struct mt_record *rec;
	struct task_struct *task;
	struct file *exe;

	if (!event)
		return 0;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !(cfg->event_mask & (1u << event)))
		return 0;
	if (!passes_filters(cfg)) {
		count(MT_COUNTER_FILTERED);
		return 0;
	}
	rec = bpf_map_lookup_elem(&scratch_record, &zero);
	if (!rec)
		return 0;
	__builtin_memset(rec, 0, sizeof(*rec) - sizeof(rec->str));
	rec->size = sizeof(*rec);
	rec->version = MT_LAYOUT_VERSION;
	rec->event = event;
	rec->hook = MT_HOOK_RAW_SYSCALLS;
	rec->args[0] = MT_SYSCALL_ARG0(regs);
	rec->args[1] = MT_SYSCALL_ARG1(regs);
	rec->args[2] = MT_SYSCALL_ARG2(regs);

	task = (struct task_struct *)bpf_get_current_task();
	fill_context(rec, task);
	exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe)
		read_path(rec, MT_SLOT_EXE, &exe->f_path);
	else
		set_slot(rec, MT_SLOT_EXE, 0, MT_STR_ABSENT);

	switch (event) {
	case MT_EVENT_INIT_MODULE:
		read_user_string(rec, MT_SLOT_ARG, (const void *)rec->args[2]);
		set_slot(rec, MT_SLOT_FILE, 0, MT_STR_ABSENT);
		break;
	case MT_EVENT_FINIT_MODULE:
		read_user_string(rec, MT_SLOT_ARG, (const void *)rec->args[1]);
		read_fd_file(rec, task, (int)rec->args[0]);
		break;
	case MT_EVENT_DELETE_MODULE:
		read_user_string(rec, MT_SLOT_ARG, (const void *)rec->args[0]);
		set_slot(rec, MT_SLOT_FILE, 0, MT_STR_ABSENT);
		break;
	}

	tid = rec->host_tid;
	if (bpf_map_update_elem(&inflight, &tid, rec, BPF_ANY))
		count(MT_COUNTER_LOST_INFLIGHT);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct mt_record *rec;

	if (!event_of_syscall(MT_SYSCALL_NR(regs)))
		return 0;
	rec = bpf_map_lookup_elem(&inflight, &tid);
	if (!rec)
		return 0;
	rec->ret = ret;
	if (bpf_ringbuf_output(&events, rec, sizeof(*rec), 0))
		count(MT_COUNTER_LOST_RINGBUF);
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}
