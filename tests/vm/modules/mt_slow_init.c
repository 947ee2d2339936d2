// SPDX-License-Identifier: GPL-2.0
/* mt_slow_init: an init that takes a second and a half, so that the caller's
 * other thread can swap finit_module's fd (dup2) after the kernel read the
 * file and before the syscall returns: what a tracer that reads the fd at the
 * call's exit then names is not the file the kernel loaded. */
#include <linux/delay.h>
#include <linux/module.h>

static int __init mt_slow_init_init(void)
{
	msleep(1500);
	return 0;
}

static void __exit mt_slow_init_exit(void)
{
}

module_init(mt_slow_init_init);
module_exit(mt_slow_init_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: a slow init");
