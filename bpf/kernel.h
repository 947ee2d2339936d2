/* The kernel types modtrace's BPF code reads: a hand-kept subset, not a dump
 * of the build machine's kernel, so builds are reproducible. Every struct is
 * marked preserve_access_index, so libbpf relocates each field access against
 * the running kernel's BTF (CO-RE): only the fields we read need to exist,
 * in any order and at any offset. Kernel-version differences belong here. */
#ifndef MODTRACE_KERNEL_H
#define MODTRACE_KERNEL_H
/* This header plays vmlinux.h's part: bpf_tracing.h then uses the kernel's
 * register names (di, si, …) rather than user space's (rdi, rsi, …). */
#define __VMLINUX_H__

#include <linux/types.h>
#include <linux/bpf.h>
#include <stdbool.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;
typedef int pid_t;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* x86_64 user registers as saved at syscall entry (arch/x86/include/asm/ptrace.h). */
struct pt_regs {
	unsigned long bx; /* with cx and dx: the i386 argument registers (the 32-bit entry) */
	unsigned long r10;
	unsigned long r8;
	unsigned long r9;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long ax;
	unsigned long bp;
	unsigned long sp;
	unsigned long ip;
};

struct ns_common {
	unsigned int inum;
};

struct task_struct;

struct pid_namespace {
	struct ns_common ns;
	struct task_struct *child_reaper; /* the namespace's init: the host's pid 1 for the initial one */
};

struct mount;

struct mnt_namespace {
	struct ns_common ns;
	struct mount *root;
};

struct upid {
	int nr;
	struct pid_namespace *ns;
};

struct pid {
	unsigned int level;
	struct upid numbers[1];
};

struct net {
	struct ns_common ns;
};

struct nsproxy {
	struct mnt_namespace *mnt_ns;
	struct net *net_ns;
};

struct qstr {
	union {
		struct {
			u32 hash;
			u32 len;
		};
		u64 hash_len;
	};
	const unsigned char *name;
};

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
};

struct vfsmount {
	struct dentry *mnt_root;
};

/* fs/mount.h: the vfsmount a path points at is embedded in a struct mount. */
struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	struct mnt_namespace *mnt_ns; /* the namespace it is mounted in; none for a detached mount */
};

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
};

struct super_block {
	u32 s_dev;
};

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
	unsigned int i_nlink; /* in an anonymous union in the kernel: CO-RE finds it there */
};

struct file {
	struct path f_path;
	struct inode *f_inode;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct mm_struct {
	struct file *exe_file;
	unsigned long arg_start; /* the command line: NUL-separated arguments */
	unsigned long arg_end;
};

/* include/linux/binfmts.h: an exec in progress. */
struct linux_binprm {
	struct file *file;    /* what runs: the program, or a script's interpreter */
	const char *filename; /* the path the exec was given */
};

/* include/linux/module.h */
struct module {
	char name[56];
	const char *version;
	const char *srcversion;
	unsigned long taints;
	bool sig_ok; /* only with CONFIG_MODULE_SIG: check bpf_core_field_exists() */
};

/* Where a module's code lies. Up to 6.3 its core is one allocation, code
 * first (core_layout); from 6.4 each kind of memory is its own allocation,
 * mem[MOD_TEXT] (index 0) the core's code. Flavours of struct module: CO-RE
 * drops the ___suffix and keeps whichever the running kernel has. */
struct module_layout {
	void *base;
	unsigned int size;
	unsigned int text_size;
};

struct module___core_layout {
	struct module_layout core_layout;
};

struct module_memory {
	void *base;
	unsigned int size;
};

struct module___mem {
	struct module_memory mem[1];
};

typedef struct {
	u32 val;
} kuid_t;

/* 6.1 has two u32 words, 6.3 on one u64: the same eight bytes, read whole. */
typedef struct {
	u64 val;
} kernel_cap_t;

struct user_namespace {
	struct ns_common ns;
	int level; /* 0: the initial user namespace */
};

struct cred {
	kuid_t euid;
	kernel_cap_t cap_effective;
	struct user_namespace *user_ns;
};

struct kernfs_node {
	const char *name;
	struct kernfs_node *parent;
};

/* 6.15 renamed kernfs_node.parent (now RCU-protected) to __parent. */
struct kernfs_node___v615 {
	struct kernfs_node *__parent;
};

struct cgroup {
	struct kernfs_node *kn;
};

struct css_set {
	struct cgroup *dfl_cgrp; /* the task's cgroup in the v2 (default) hierarchy */
};

/* x86's thread_info, first in task_struct (CONFIG_THREAD_INFO_IN_TASK). */
struct thread_info {
	u32 status; /* TS_* bits: TS_COMPAT while a 32-bit syscall is active */
};

struct task_struct {
	struct thread_info thread_info;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct pid *thread_pid;
	struct nsproxy *nsproxy;
	struct mm_struct *mm;
	struct files_struct *files;
	char comm[16];
	u64 start_boottime;
	const struct cred *cred;
	struct css_set *cgroups;
	kuid_t loginuid;        /* only with CONFIG_AUDIT: check bpf_core_field_exists() */
	unsigned int sessionid; /* likewise */
	unsigned int flags;     /* PF_* */
};

#pragma clang attribute pop

/* What the kernel is reading or loading at the security hooks that see a
 * whole image (include/linux/kernel_read_file.h, security.h). Values are
 * relocated with bpf_core_enum_value(). */
enum kernel_read_file_id {
	READING_MODULE = 2,
	READING_KEXEC_IMAGE = 3,
};

enum kernel_load_data_id {
	LOADING_MODULE = 2,
};

#endif
