// SPDX-License-Identifier: GPL-2.0
/* mt_ftrace_hook: hooks the way ftrace-based rootkits do (and livepatch
 * does): ftrace_ops with IPMODIFY on a function's entry whose handler sends
 * the call to our own function. getpgrp() then returns 4242 in every
 * process; getdents64 and the /proc directory iterator (proc_pid_readdir,
 * what `ls /proc` and ps read processes through: where rootkits hide them)
 * go through our wrappers, which pass every call on unchanged. The dispatch
 * (table, x64_sys_call) stays untouched: only the functions' ftrace records
 * show it, in tracefs's enabled_functions, naming our handlers and this
 * module.
 *
 * A wrapper calls the original function, whose ftrace entry then calls our
 * handler again: the handler leaves alone calls that come from this module
 * (parent_ip, the return address into the wrapper), as the usual ftrace
 * hooking code does. */
#include <linux/fs.h>
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include "mt_lookup.h"

#define MT_MAGIC 4242

typedef long (*mt_syscall_t)(const struct pt_regs *regs);
typedef int (*mt_readdir_t)(struct file *file, struct dir_context *ctx);

struct mt_hook {
	const char *name;
	void *to;
	unsigned long target;
	struct ftrace_ops ops;
};

static long mt_ftrace_getpgrp(const struct pt_regs *regs)
{
	return MT_MAGIC;
}

static struct mt_hook mt_hooks[3];

/* Never a tail call (the barrier after it): a jump would leave no return
 * address in this module, and the handler would send the call back here. */
static long mt_getdents64(const struct pt_regs *regs)
{
	long ret = ((mt_syscall_t)mt_hooks[1].target)(regs);

	barrier();
	return ret;
}

static int mt_proc_pid_readdir(struct file *file, struct dir_context *ctx)
{
	int ret = ((mt_readdir_t)mt_hooks[2].target)(file, ctx);

	barrier();
	return ret;
}

static void notrace mt_ftrace_handler(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct mt_hook *hook = container_of(op, struct mt_hook, ops);

	if (regs && !within_module(parent_ip, THIS_MODULE))
		regs->ip = (unsigned long)hook->to;
}

static struct mt_hook mt_hooks[3] = {
	{ .name = "__x64_sys_getpgrp", .to = mt_ftrace_getpgrp },
	{ .name = "__x64_sys_getdents64", .to = mt_getdents64 },
	{ .name = "proc_pid_readdir", .to = mt_proc_pid_readdir },
};

static void mt_unhook(int n)
{
	while (n-- > 0) {
		unregister_ftrace_function(&mt_hooks[n].ops);
		ftrace_set_filter_ip(&mt_hooks[n].ops, mt_hooks[n].target, 1, 0);
	}
}

static int __init mt_ftrace_hook_init(void)
{
	int i, rc;

	for (i = 0; i < ARRAY_SIZE(mt_hooks); i++) {
		struct mt_hook *h = &mt_hooks[i];

		h->ops.func = mt_ftrace_handler;
		h->ops.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_RECURSION;
		h->target = mt_lookup(h->name);
		rc = h->target ? ftrace_set_filter_ip(&h->ops, h->target, 0, 0) : -ENOENT;
		if (!rc) {
			rc = register_ftrace_function(&h->ops);
			if (rc)
				ftrace_set_filter_ip(&h->ops, h->target, 1, 0);
		}
		if (rc) {
			pr_err("mt_ftrace_hook: cannot hook %s: %d\n", h->name, rc);
			mt_unhook(i);
			return rc;
		}
		pr_info("mt_ftrace_hook: %s now goes to %px\n", h->name, h->to);
	}
	return 0;
}

static void __exit mt_ftrace_hook_exit(void)
{
	mt_unhook(ARRAY_SIZE(mt_hooks));
	pr_info("mt_ftrace_hook: hooks removed\n");
}

module_init(mt_ftrace_hook_init);
module_exit(mt_ftrace_hook_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: hooks getpgrp, getdents64 and the /proc iterator through ftrace");
