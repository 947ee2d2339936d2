/* The process context every record carries and the kernel-side filters on it. */
#ifndef MODTRACE_CONTEXT_H
#define MODTRACE_CONTEXT_H

#include <bpf/bpf_core_read.h>
#include "maps.h"
#include "config.h"

/* The context is read through typed pointers (bpf_get_current_task_btf()):
 * plain loads, where a bpf_probe_read_kernel() call per field cost ~50 ns
 * and made the context most of a record's price. Only an index the verifier
 * cannot see as constant (a pid's number in a nested namespace) still needs
 * the helper. */

/* A pid's number in the namespace at `level` (0: the initial one). */
static __always_inline u32 pid_nr(struct pid *pid, unsigned int level)
{
	if (level == 0)
		return pid->numbers[0].nr;
	return BPF_CORE_READ(pid, numbers[level].nr);
}

/* The parent's pid as the child's namespace sees it (0 when it cannot). */
static __always_inline u32 parent_pid_in_ns(struct task_struct *parent, unsigned int level)
{
	struct pid *pid = parent->group_leader->thread_pid;

	if (pid->level < level)
		return 0;
	return pid_nr(pid, level);
}

/* Who the caller acts as, and whether its namespaces are the host's. */
static __always_inline void fill_identity(struct mt_record *rec, struct task_struct *task, unsigned int level)
{
	const struct cred *cred = task->cred;
	struct user_namespace *user_ns = cred->user_ns;
	/* The initial pid namespace's init is the host's pid 1. */
	struct task_struct *init = task->thread_pid->numbers[0].ns->child_reaper;

	rec->euid = cred->euid.val;
	bpf_probe_read_kernel(&rec->cap_effective, sizeof(rec->cap_effective), &cred->cap_effective);
	rec->user_ns = user_ns->ns.inum;
	if (user_ns->level == 0)
		rec->context |= MT_CONTEXT_INIT_USER_NS;
	if (level == 0)
		rec->context |= MT_CONTEXT_INIT_PID_NS;
	if (task->nsproxy->mnt_ns == init->nsproxy->mnt_ns)
		rec->context |= MT_CONTEXT_INIT_MNT_NS;
	if (bpf_core_field_exists(task->loginuid)) {
		rec->loginuid = task->loginuid.val;
		rec->sessionid = task->sessionid;
	} else {
		rec->loginuid = (u32)-1; /* what the kernel says of an unset one */
		rec->sessionid = (u32)-1;
	}
}

/* A global function: checked once by the verifier, which takes long over
 * every typed load from task_struct (a large type) on every path it walks. */
__noinline int fill_context(struct mt_record_buf *buf)
{
	struct mt_record *rec = &buf->rec;
	struct task_struct *task = bpf_get_current_task_btf();
	u64 pid_tgid = bpf_get_current_pid_tgid();
	u64 uid_gid = bpf_get_current_uid_gid();
	struct task_struct *parent = task->real_parent;
	struct pid *thread_pid = task->thread_pid;
	struct pid *leader_pid = task->group_leader->thread_pid;
	unsigned int level = thread_pid->level;

	if (!buf)
		return 0;
	rec->boot_ns = bpf_ktime_get_boot_ns();
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->host_pid = pid_tgid >> 32;
	rec->host_tid = (u32)pid_tgid;
	rec->host_ppid = parent->tgid;
	rec->tid = pid_nr(thread_pid, level);
	rec->pid = pid_nr(leader_pid, leader_pid->level);
	rec->ppid = parent_pid_in_ns(parent, level);
	rec->uid = (u32)uid_gid;
	rec->gid = uid_gid >> 32;
	rec->mnt_ns = task->nsproxy->mnt_ns->ns.inum;
	rec->net_ns = task->nsproxy->net_ns->ns.inum;
	rec->flags |= MT_FLAG_NET_NS;
	rec->pid_ns = level == 0 ? thread_pid->numbers[0].ns->ns.inum : BPF_CORE_READ(thread_pid, numbers[level].ns, ns.inum);
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	fill_identity(rec, task, level);
	return 0;
}

/* True when the current process passes --pid/--uid/--comm. The filter bits
 * are constants to the verifier (bpf/config.h): without a filter, none of
 * this is verified or run. */
static __always_inline bool passes_filters(void)
{
	u32 tgid;

	if (!config.filters)
		return true;
	/* modtrace's own heartbeat calls (findings/heartbeat.ts) pass whatever the filters. */
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (config.self_tgid && tgid == config.self_tgid)
		return true;
	if ((config.filters & MT_FILTER_PID) && !bpf_map_lookup_elem(&filter_pid, &tgid))
		return false;
	if (config.filters & MT_FILTER_UID) {
		u32 uid = (u32)bpf_get_current_uid_gid();

		if (!bpf_map_lookup_elem(&filter_uid, &uid))
			return false;
	}
	if (config.filters & MT_FILTER_COMM) {
		char comm[MT_COMM_LEN] = {};

		bpf_get_current_comm(comm, sizeof(comm));
		if (!bpf_map_lookup_elem(&filter_comm, comm))
			return false;
	}
	return true;
}

#endif
