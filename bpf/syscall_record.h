/* One module syscall, whatever the hook: the record is built at entry (user
 * memory is read while the caller still waits) and sent at exit with the
 * return value. Kernel-side events in between find it by thread id. */
#ifndef MODTRACE_SYSCALL_RECORD_H
#define MODTRACE_SYSCALL_RECORD_H

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

static __always_inline void start_call(int event, int hook, u64 a0, u64 a1, u64 a2)
{
	struct mt_record *rec = begin_record(event, hook);

	if (!rec)
		return;
	rec->args[0] = a0;
	rec->args[1] = a1;
	rec->args[2] = a2;
	rec->call_id = rec->boot_ns;
	switch (event) {
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
	park(&inflight, rec);
}

static __always_inline void finish_call(long ret)
{
	emit_parked(&inflight, ret);
}

#endif
