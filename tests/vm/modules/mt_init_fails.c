// SPDX-License-Identifier: GPL-2.0
/* mt_init_fails: an init that runs and then fails, so that no module is left
 * behind; an unsigned out-of-tree one, as a dropper's would be. */
#include <linux/module.h>

static int __init mt_init_fails_init(void)
{
	return -ENODEV;
}

module_init(mt_init_fails_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: an init that fails");
