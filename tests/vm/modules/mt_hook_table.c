// SPDX-License-Identifier: GPL-2.0
/* mt_hook_table: the classic syscall hook. Points sys_call_table[__NR_getppid]
 * at its own function. Since 6.1.85 (and 6.9) x86-64 dispatches through the
 * x64_sys_call switch, not the table, so on the vm kernel the write changes
 * the table but not what getppid does: the syscall_dispatch_changed watch must
 * report it all the same (older kernels, and tools reading the table, still
 * trust it).
 *
 * The table is in read-only data. Its page-table entry is made writable for
 * the one store (lookup_address is exported; CR0.WP games are pinned on 6.1)
 * and put back; the TLB is flushed both times so no CPU keeps the old rights. */
#include <linux/module.h>
#include <linux/syscalls.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>
#include <asm/unistd.h>
#include "mt_lookup.h"

static long mt_hook_table_getppid(const struct pt_regs *regs)
{
	return 4243;
}

static void mt_write_ro(unsigned long *where, unsigned long value)
{
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)where, &level);
	pte_t old = *pte;

	set_pte_atomic(pte, __pte(pte_val(old) | _PAGE_RW));
	__flush_tlb_all();
	WRITE_ONCE(*where, value);
	set_pte_atomic(pte, old);
	__flush_tlb_all();
}

/* Where the hook went and what it replaced: the unload puts it back, as a
 * rootkit covering its tracks does. */
static unsigned long *mt_table;
static unsigned long mt_original;

static int __init mt_hook_table_init(void)
{
	unsigned long *table = (unsigned long *)mt_lookup("sys_call_table");

	if (!table)
		return -ENOENT;
	mt_table = table;
	mt_original = READ_ONCE(table[__NR_getppid]);
	mt_write_ro(&table[__NR_getppid], (unsigned long)mt_hook_table_getppid);
	pr_info("mt_hook_table: sys_call_table[%d] now %px\n", __NR_getppid, mt_hook_table_getppid);
	return 0;
}

static void __exit mt_hook_table_exit(void)
{
	mt_write_ro(&mt_table[__NR_getppid], mt_original);
	pr_info("mt_hook_table: sys_call_table[%d] restored\n", __NR_getppid);
}

module_init(mt_hook_table_init);
module_exit(mt_hook_table_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modtrace test module: overwrites sys_call_table[__NR_getppid]");
