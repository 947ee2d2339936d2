// SPDX-License-Identifier: GPL-2.0
/* mt_kprobe_hook: a kprobe on __x64_sys_getdents64, the way a rootkit that
 * avoids both the syscall table and ftrace's list hooks the directory
 * listing: its handler runs before every getdents64 (this one changes
 * nothing). The kprobes list in debugfs shows the probe, not its owner. */
#include <linux/module.h>
#include <linux/kprobes.h>

static int mt_kprobe_hook_pre(struct kprobe *p, struct pt_regs *regs)
{
	return 0;
}

static struct kprobe mt_kp = {
	.symbol_name = "__x64_sys_getdents64",
	.pre_handler = mt_kprobe_hook_pre,
};

static int __init mt_kprobe_hook_init(void)
{
	return register_kprobe(&mt_kp);
}

static void __exit mt_kprobe_hook_exit(void)
{
	unregister_kprobe(&mt_kp);
}

module_init(mt_kprobe_hook_init);
module_exit(mt_kprobe_hook_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: a kprobe on __x64_sys_getdents64");
