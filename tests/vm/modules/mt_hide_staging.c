// SPDX-License-Identifier: GPL-2.0
/* mt_hide_staging: mt_hide_list's trick (off the module list on init) by a
 * module that declares itself staging, so its load taints the kernel with C
 * (TAINT_CRAP), a bit no other test module sets. With module_load not
 * captured, nothing modtrace saw and no module /proc/modules lists explains
 * the new bit: what the taint_unexplained watch looks for. */
#include <linux/module.h>
#include <linux/rculist.h>

static int __init mt_hide_staging_init(void)
{
	list_del_rcu(&THIS_MODULE->list);
	return 0;
}

module_init(mt_hide_staging_init);
MODULE_LICENSE("GPL");
MODULE_INFO(staging, "Y");
MODULE_DESCRIPTION("modtrace test module: a staging module that hides from the module list");
