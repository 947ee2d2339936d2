/* SPDX-License-Identifier: GPL-2.0 */
/* Unexported kernel symbols for the hook test modules. kallsyms_lookup_name
 * has not been exported since 5.7, so, as current rootkits do, a kprobe on it
 * is registered only to learn its address (kprobes resolve names themselves),
 * then the function is called directly. */
#ifndef MT_LOOKUP_H
#define MT_LOOKUP_H
#include <linux/kprobes.h>

typedef unsigned long (*mt_kallsyms_lookup_name_t)(const char *name);

static unsigned long mt_lookup(const char *name)
{
	static mt_kallsyms_lookup_name_t lookup;

	if (!lookup) {
		struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };

		if (register_kprobe(&kp) < 0)
			return 0;
		lookup = (mt_kallsyms_lookup_name_t)kp.addr;
		unregister_kprobe(&kp);
	}
	return lookup(name);
}
#endif
