// SPDX-License-Identifier: GPL-2.0
/* mt_hide_list: takes itself off the kernel's module list on init, as
 * Diamorphine and Reptile do. /proc/modules and lsmod then no longer show it,
 * but its sysfs kobject (/sys/module/mt_hide_list) stays: two kernel views
 * that disagree, which the hidden_module watch looks for.
 *
 * list_del_rcu rather than list_del: /proc/modules readers walk the list
 * under RCU and may stand on our entry right now; the poisoned pointers of
 * list_del would send them into the weeds. The module can never be unloaded
 * (delete_module finds modules through this list): the VM is thrown away. */
#include <linux/module.h>
#include <linux/rculist.h>

static int __init mt_hide_list_init(void)
{
	list_del_rcu(&THIS_MODULE->list);
	return 0;
}

module_init(mt_hide_list_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: hides from the module list");
