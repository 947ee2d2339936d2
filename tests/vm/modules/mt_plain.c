// SPDX-License-Identifier: GPL-2.0
/* mt_plain: does nothing. A benign out-of-tree, unsigned module, for rules
 * about where a module came from and what it taints, not what it does. */
#include <linux/module.h>

static int __init mt_plain_init(void)
{
	return 0;
}

static void __exit mt_plain_exit(void)
{
}

module_init(mt_plain_init);
module_exit(mt_plain_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: does nothing");
