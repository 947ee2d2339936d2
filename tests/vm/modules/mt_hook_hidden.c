// SPDX-License-Identifier: GPL-2.0
/* mt_hook_hidden: a hook whose module then hides, as rootkits do: points
 * sys_call_table[__NR_getsid] at its own function, then takes itself off
 * the module list. kallsyms walks that list, so the hook's target no longer
 * has a symbol, and the nearest one below it is another module's: the
 * syscall_hooked finding must not name that one. It can never be unloaded
 * (delete_module finds modules through the list): it loads last in the VM. */
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/syscalls.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>
#include <asm/unistd.h>
#include "mt_lookup.h"

static long mt_hook_hidden_getsid(const struct pt_regs *regs)
{
	return 4244;
}

static int __init mt_hook_hidden_init(void)
{
	unsigned long *table = (unsigned long *)mt_lookup("sys_call_table");
	unsigned int level;
	pte_t *pte;
	pte_t old;

	if (!table)
		return -ENOENT;
	/* The table is read-only data: its entry made writable for the one store. */
	pte = lookup_address((unsigned long)&table[__NR_getsid], &level);
	old = *pte;
	set_pte_atomic(pte, __pte(pte_val(old) | _PAGE_RW));
	__flush_tlb_all();
	WRITE_ONCE(table[__NR_getsid], (unsigned long)mt_hook_hidden_getsid);
	set_pte_atomic(pte, old);
	__flush_tlb_all();
	/* RCU readers of /proc/modules may stand on our entry: list_del_rcu. */
	list_del_rcu(&THIS_MODULE->list);
	return 0;
}

module_init(mt_hook_hidden_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: hooks sys_call_table[__NR_getsid], then hides from the module list");
