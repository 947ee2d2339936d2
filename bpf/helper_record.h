/* call_usermodehelper: a program the kernel started of its own accord (a
 * usermode helper: modprobe for an autoload request, a core_pattern pipe,
 * request-key), seen at sched_process_exec as the child a kernel thread
 * forked becomes that program. modprobe_path can be overwritten and put back
 * between two looks at it; the helper's exec cannot be taken back. */
#ifndef MODTRACE_HELPER_RECORD_H
#define MODTRACE_HELPER_RECORD_H

#include "syscall_record.h"

/* include/linux/sched.h: a kernel thread (kworker, kthreadd), the only
 * parent a usermode helper has; unchanged since 2.6. */
#define MT_PF_KTHREAD 0x00200000

/* The command line the program was given, from the new process's memory
 * (mm->arg_start..arg_end, the arguments NUL-separated), the NULs turned
 * into spaces: "/sbin/modprobe -q -- net-pf-38". */
static __always_inline void read_argv(struct mt_record *rec, int slot, struct mm_struct *mm)
{
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);
	char *s = next_string(rec);
	u32 len = end > start ? end - start : 0;
	u8 state = MT_STR_OK;

	if (len > MT_STR_LEN - 1) {
		len = MT_STR_LEN - 1;
		state = MT_STR_TRUNCATED;
	}
	len = bounded(len, MT_SLOT_MASK);
	if (!len || bpf_probe_read_user(s, len, (void *)start)) {
		set_slot(rec, slot, 0, len ? MT_STR_FAULT : MT_STR_OK);
		return;
	}
	/* The last argument's NUL ends the string. */
	if (state == MT_STR_OK && !s[bounded(len - 1, MT_SLOT_MASK)])
		len--;
	for (u32 i = 0; i < MT_STR_LEN - 1; i++) {
		if (i >= len)
			break;
		if (!s[i])
			s[i] = ' ';
	}
	s[bounded(len, MT_SLOT_MASK)] = 0;
	set_slot(rec, slot, len, state);
}

/* The record of a helper's exec; nothing for the execs of every other
 * process, which a kernel thread did not fork. */
static __always_inline void record_helper(struct task_struct *p, struct linux_binprm *bprm)
{
	struct mt_record *rec;
	struct file *file;

	if (!(BPF_CORE_READ(p, real_parent, flags) & MT_PF_KTHREAD))
		return;
	rec = begin_record(MT_EVENT_CALL_USERMODEHELPER, MT_HOOK_TRACEPOINT, NULL, true);
	if (!rec)
		return;
	read_kernel_string(rec, MT_SLOT_FILE, BPF_CORE_READ(bprm, filename));
	read_argv(rec, MT_SLOT_ARG, BPF_CORE_READ(p, mm));
	file = BPF_CORE_READ(bprm, file);
	rec->file_dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	rec->file_ino = BPF_CORE_READ(file, f_inode, i_ino);
	rec->flags |= file_flags(file);
	/* User space hashes the file before the record is decoded. */
	rec->image_state = MT_IMAGE_ON_DISK;
	emit(rec);
}

#endif
