// SPDX-License-Identifier: GPL-2.0
/* mt_hide_kobj: removes its own sysfs kobject on init (as Reptile does), so
 * /sys/module/mt_hide_kobj disappears while /proc/modules still lists it:
 * the other half of the hidden_module watch's cross-check.
 *
 * kobject_del, not kobject_put: the kobject is embedded in struct module and
 * must not be freed; do_init_module still sends its KOBJ_ADD uevent on it
 * after we return, which a deleted (but live) kobject survives. */
#include <linux/module.h>
#include <linux/kobject.h>

static int __init mt_hide_kobj_init(void)
{
	kobject_del(&THIS_MODULE->mkobj.kobj);
	return 0;
}

module_init(mt_hide_kobj_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: hides from /sys/module");
