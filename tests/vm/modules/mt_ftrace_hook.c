// SPDX-License-Identifier: GPL-2.0
/* mt_ftrace_hook: hooks getpgrp the way ftrace-based rootkits do (and
 * livepatch does): an ftrace_ops with IPMODIFY on __x64_sys_getpgrp's entry
 * whose handler sends the call to our own function, so getpgrp() returns
 * 4242 in every process. The dispatch (table, x64_sys_call) stays untouched:
 * only the function's ftrace record shows it, in tracefs's enabled_functions,
 * naming our handler and this module. */
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include "mt_lookup.h"

#define MT_MAGIC 4242

static unsigned long mt_target;

static long mt_ftrace_getpgrp(const struct pt_regs *regs)
{
	return MT_MAGIC;
}

static void notrace mt_ftrace_handler(unsigned long ip, unsigned long parent_ip, struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	/* Only calls from outside this module: our function is not traced, but be plain about it. */
	if (regs && !within_module(parent_ip, THIS_MODULE))
		regs->ip = (unsigned long)mt_ftrace_getpgrp;
}

static struct ftrace_ops mt_ops = {
	.func = mt_ftrace_handler,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_RECURSION,
};

static int __init mt_ftrace_hook_init(void)
{
	int rc;

	mt_target = mt_lookup("__x64_sys_getpgrp");
	if (!mt_target)
		return -ENOENT;
	rc = ftrace_set_filter_ip(&mt_ops, mt_target, 0, 0);
	if (rc)
		return rc;
	rc = register_ftrace_function(&mt_ops);
	if (rc) {
		ftrace_set_filter_ip(&mt_ops, mt_target, 1, 0);
		return rc;
	}
	pr_info("mt_ftrace_hook: __x64_sys_getpgrp now goes to %px\n", mt_ftrace_getpgrp);
	return 0;
}

static void __exit mt_ftrace_hook_exit(void)
{
	unregister_ftrace_function(&mt_ops);
	ftrace_set_filter_ip(&mt_ops, mt_target, 1, 0);
	pr_info("mt_ftrace_hook: __x64_sys_getpgrp restored\n");
}

module_init(mt_ftrace_hook_init);
module_exit(mt_ftrace_hook_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: hooks getpgrp through ftrace");
