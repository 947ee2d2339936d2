// SPDX-License-Identifier: GPL-2.0
/* mt_hook_ia32: mt_hook_dispatch's hook in the 32-bit dispatch, the
 * ia32_sys_call switch that int 0x80 and 32-bit processes go through: i386
 * getppid (64) returns 4242, the 64-bit one is untouched. */
#define MT_DISPATCH_FN "ia32_sys_call"
#define MT_HANDLER "__ia32_sys_getppid"
#define MT_DESCRIPTION "modtrace test module: retargets getppid in ia32_sys_call"
#include "mt_hook_dispatch.c"
