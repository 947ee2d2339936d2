// SPDX-License-Identifier: GPL-2.0
/* mt_hook_dispatch: hooks getppid where 6.1.85+ (and 6.9+) kernels really
 * dispatch syscalls: the x64_sys_call switch, whose case for getppid is a
 * direct jmp (or call) rel32 to __x64_sys_getppid. That instruction is
 * retargeted to our function, so getppid() returns 4242 in every process: the
 * guest can prove the hook is live, and a check of sys_call_table alone sees
 * nothing.
 *
 * The kernel's own live-patching primitive does the write: text_poke_bp (int3
 * first, so other CPUs never run a half-written instruction), under
 * text_mutex, both found through kallsyms since neither is exported. */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/ptrace.h>
#include <asm/text-patching.h>
#include "mt_lookup.h"

/* Which switch and which case: mt_hook_ia32.c includes this file with the
 * 32-bit dispatch's names. */
#ifndef MT_DISPATCH_FN
#define MT_DISPATCH_FN "x64_sys_call"
#define MT_HANDLER "__x64_sys_getppid"
#define MT_DESCRIPTION "modtrace test module: retargets getppid in x64_sys_call"
#endif

#define MT_MAGIC 4242
/* The switch's code is some KiB; a jump found further on is not its own. */
#define MT_SCAN_MAX 65536

typedef void (*text_poke_bp_t)(void *addr, const void *opcode, size_t len, const void *emulate);

static long mt_hook_dispatch_getppid(const struct pt_regs *regs)
{
	return MT_MAGIC;
}

/* The patched instruction and its original bytes: the unload puts them back,
 * as a rootkit covering its tracks does. */
static u8 *mt_patched;
static u8 mt_original[5];
static text_poke_bp_t mt_poke;
static struct mutex *mt_text_mutex;

static int __init mt_hook_dispatch_init(void)
{
	u8 *fn = (u8 *)mt_lookup(MT_DISPATCH_FN);
	unsigned long target = mt_lookup(MT_HANDLER);
	text_poke_bp_t poke = (text_poke_bp_t)mt_lookup("text_poke_bp");
	struct mutex *text_mutex = (struct mutex *)mt_lookup("text_mutex");
	unsigned long next;
	u8 insn[5];
	size_t i;

	if (!fn || !target || !poke || !text_mutex)
		return -ENOENT;
	for (i = 0; i < MT_SCAN_MAX; i++) {
		/* 0xe8 call rel32, 0xe9 jmp rel32: the target is relative to the
		 * next instruction. A stray byte pair that decodes to exactly this
		 * target is not a worry in practice. */
		if (fn[i] != 0xe8 && fn[i] != 0xe9)
			continue;
		next = (unsigned long)&fn[i + 5];
		if (next + *(s32 *)&fn[i + 1] == target)
			break;
	}
	if (i == MT_SCAN_MAX)
		return -ENOENT;
	mt_patched = &fn[i];
	memcpy(mt_original, mt_patched, sizeof(mt_original));
	mt_poke = poke;
	mt_text_mutex = text_mutex;
	insn[0] = fn[i];
	*(s32 *)&insn[1] = (s32)((long)mt_hook_dispatch_getppid - (long)&fn[i + 5]);
	mutex_lock(text_mutex);
	poke(&fn[i], insn, sizeof(insn), NULL);
	mutex_unlock(text_mutex);
	pr_info(KBUILD_MODNAME ": " MT_DISPATCH_FN "+%#zx (%s " MT_HANDLER ") now goes to %px\n",
		i, insn[0] == 0xe9 ? "jmp" : "call", mt_hook_dispatch_getppid);
	return 0;
}

static void __exit mt_hook_dispatch_exit(void)
{
	mutex_lock(mt_text_mutex);
	mt_poke(mt_patched, mt_original, sizeof(mt_original), NULL);
	mutex_unlock(mt_text_mutex);
	pr_info(KBUILD_MODNAME ": " MT_DISPATCH_FN " restored\n");
}

module_init(mt_hook_dispatch_init);
module_exit(mt_hook_dispatch_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(MT_DESCRIPTION);
