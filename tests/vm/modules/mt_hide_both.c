// SPDX-License-Identifier: GPL-2.0
/* mt_hide_both: takes itself off the module list and out of /sys/module on
 * init, as Reptile does: no name-based view shows it any more, and a capture
 * that starts after it cannot compare them. Its code stays where the module
 * loader put it, and /proc/vmallocinfo still lists that area as the loader's:
 * the hidden_module watch's third view.
 *
 * list_del_rcu and kobject_del for the reasons mt_hide_list.c and
 * mt_hide_kobj.c give. The module can never be unloaded: the VM is thrown
 * away. */
#include <linux/module.h>
#include <linux/kobject.h>
#include <linux/rculist.h>

static int __init mt_hide_both_init(void)
{
	list_del_rcu(&THIS_MODULE->list);
	kobject_del(&THIS_MODULE->mkobj.kobj);
	return 0;
}

module_init(mt_hide_both_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: hides from the module list and /sys/module");
