/* One module syscall, whatever the hook. By default its record is built and
 * sent at the syscall's exit, where the arguments are still in the caller's
 * saved registers: one program per call. With --read-at entry the record is
 * built at entry (user memory read while the caller still waits, before a
 * racing thread can rewrite it) and parked until the exit. Kernel-side events
 * in between share the call's id through the calls map. */
#ifndef MODTRACE_SYSCALL_RECORD_H
#define MODTRACE_SYSCALL_RECORD_H

#include "syscalls.h"
#include "record.h"

/* The syscall event of a number in the x86_64 table (compat false)
 * or the i386 one (compat true), 0 for any other syscall. */
static __always_inline int event_of_syscall(long nr, bool compat)
{
#define SYSCALL_CASE(EVENT, name) \
	case MT_NR_##EVENT:       \
		return MT_EVENT_##EVENT;
#define SYSCALL32_CASE(EVENT, name, FUNCTION) \
	case MT_NR32_##EVENT:                 \
		return MT_EVENT_##EVENT;
	if (compat) {
		switch (nr) {
		MT_SYSCALL32_EVENTS(SYSCALL32_CASE)
		}
	} else {
		switch (nr) {
		MT_SYSCALL_EVENTS(SYSCALL_CASE)
		}
	}
#undef SYSCALL_CASE
#undef SYSCALL32_CASE
	return 0;
}

/* Whether the current thread's syscall came through the 32-bit entry. */
static __always_inline bool in_compat_syscall_now(void)
{
	return BPF_CORE_READ(bpf_get_current_task_btf(), thread_info.status) & MT_TS_COMPAT;
}

/* The module syscall event the current thread is in, given the number it
 * entered with (orig_ax, or the raw tracepoints' id), and through which
 * entry. Only a number that is a module syscall in either table pays for
 * reading the thread's status: raw mode runs this at every syscall's exit. */
static __always_inline int event_of_current_syscall(long nr, bool *compat)
{
	if (!event_of_syscall(nr, false) && !event_of_syscall(nr, true))
		return 0;
	*compat = in_compat_syscall_now();
	return event_of_syscall(nr, *compat);
}

/* The user registers saved when the current thread entered the kernel. */
static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* What a module file's name and mount say of it (MT_FLAG_FILE_*): whether
 * any name is left, and whether it lies in the host's mount namespace (that
 * of the initial pid namespace's init). */
static __always_inline u32 file_flags(struct file *file)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct *init = task->thread_pid->numbers[0].ns->child_reaper;
	struct mount *mnt = real_mount(BPF_CORE_READ(file, f_path.mnt));
	u32 flags = 0;

	if (BPF_CORE_READ(file, f_inode, i_nlink) == 0)
		flags |= MT_FLAG_FILE_UNLINKED;
	if (BPF_CORE_READ(mnt, mnt_ns) != init->nsproxy->mnt_ns)
		flags |= MT_FLAG_FILE_OTHER_MNT;
	return flags;
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
	rec->flags |= file_flags(file);
	read_path(rec, MT_SLOT_FILE, &file->f_path);
}

/* A syscall's record with its arguments read, or NULL when filtered out
 * (counted only at the exit: see begin_record()). args[] holds the integer
 * arguments the catalogue names, as passed: the first three, but for
 * kexec_load (entry, nr_segments, flags) and kexec_file_load (kernel_fd,
 * initrd_fd, flags), whose strings and files are read instead. */
static __always_inline struct mt_record *read_call(int event, int hook, bool compat, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, void *parking)
{
	struct mt_record *rec = begin_record(event, hook, parking, !parking);

	if (!rec)
		return NULL;
	if (compat)
		rec->flags |= MT_FLAG_COMPAT;
	rec->args[0] = a0;
	rec->args[1] = a1;
	rec->args[2] = a2;
	switch (event) {
	case MT_EVENT_KEXEC_LOAD:
		rec->args[2] = a3;
		break;
	case MT_EVENT_KEXEC_FILE_LOAD:
		rec->args[2] = a4;
		read_user_string(rec, MT_SLOT_ARG, (const void *)a3);
		read_fd_file(rec, (struct task_struct *)bpf_get_current_task(), (int)a0);
		break;
	case MT_EVENT_INIT_MODULE:
		read_user_string(rec, MT_SLOT_ARG, (const void *)a2);
		break;
	case MT_EVENT_FINIT_MODULE:
		read_user_string(rec, MT_SLOT_ARG, (const void *)a1);
		read_fd_file(rec, (struct task_struct *)bpf_get_current_task(), (int)a0);
		break;
	case MT_EVENT_DELETE_MODULE:
		read_user_string(rec, MT_SLOT_ARG, (const void *)a0);
		break;
	}
	return rec;
}

/* --read-at entry: read now, send at exit. */
static __always_inline void start_call(int event, int hook, bool compat, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
	struct mt_record *rec = read_call(event, hook, compat, a0, a1, a2, a3, a4, &inflight);
	struct mt_call call = {};

	if (!rec)
		return;
	rec->call_id = rec->boot_ns;
	call.call_id = rec->call_id;
	call.event = event;
	if (bpf_map_update_elem(&calls, &rec->host_tid, &call, BPF_ANY))
		count(MT_COUNTER_CALLS_UNTRACKED); /* the map is full: see maps.h */
}

/* The module's name, as the kernel-side events of this call learned it. */
static __always_inline void add_module_name(struct mt_record *rec, struct mt_call *call)
{
	u32 len = bounded(call->module_len, MT_MODULE_MASK);

	if (call->module_state != MT_STR_OK)
		return;
	bpf_probe_read_kernel(next_string(rec), len, call->module);
	set_slot(rec, MT_SLOT_MODULE, len, MT_STR_OK);
}

/* finit_module, kexec_file_load: the file the kernel read (seen at the
 * image hook) is the one the record names. The fd is read at the call's entry or exit, and a
 * racing dup2() (or a load whose init runs long after the read) can make it
 * name another file: then dev and ino become the file the kernel read, its
 * flags replace the fd file's, and the record says the path is not its. */
static __always_inline void check_read_file(struct mt_record *rec, struct mt_call *call)
{
	u32 fd_flags = MT_FLAG_FILE_UNLINKED | MT_FLAG_FILE_OTHER_MNT;

	if (rec->file_dev != call->read_dev || rec->file_ino != call->read_ino) {
		rec->flags |= MT_FLAG_FILE_SWAPPED;
		rec->file_dev = call->read_dev;
		rec->file_ino = call->read_ino;
		rec->flags &= ~fd_flags;
	}
	rec->flags |= call->read_flags;
}

/* At the syscall's exit: the record parked at entry, or one read now, sent
 * with the return value and tied to the kernel-side events of the call. */
static __always_inline void finish_call(int event, int hook, bool compat, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, long ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct mt_record *parked = parked_record(&inflight);
	struct mt_call *call = bpf_map_lookup_elem(&calls, &tid);
	struct mt_record *rec = parked ? parked : read_call(event, hook, compat, a0, a1, a2, a3, a4, NULL);
	bool handed = event == MT_EVENT_INIT_MODULE || event == MT_EVENT_FINIT_MODULE || event == MT_EVENT_KEXEC_FILE_LOAD;

	if (rec) {
		if (call) {
			rec->call_id = call->call_id;
			add_module_name(rec, call);
		} else if (!parked) {
			rec->call_id = rec->boot_ns;
		}
		if (handed)
			add_image(rec, call);
		if (call && call->read_seen)
			check_read_file(rec, call);
		send_with_return(rec, ret);
	}
	if (call)
		bpf_map_delete_elem(&calls, &tid);
}

#endif
