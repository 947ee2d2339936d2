/* The module syscalls as the raw_syscalls tracepoints see them: the argument
 * registers of the architecture the object is built for (the numbers and the
 * syscall functions' prefix are the catalogue's, in generated/catalogue.h). */
#ifndef MODTRACE_SYSCALLS_H
#define MODTRACE_SYSCALLS_H

#if defined(__TARGET_ARCH_x86)
/* x86_64 syscall ABI: arguments in di, si, dx, r10, r8, r9. */
#define MT_SYSCALL_ARG0(regs) BPF_CORE_READ(regs, di)
#define MT_SYSCALL_ARG1(regs) BPF_CORE_READ(regs, si)
#define MT_SYSCALL_ARG2(regs) BPF_CORE_READ(regs, dx)
#define MT_SYSCALL_ARG3(regs) BPF_CORE_READ(regs, r10)
#define MT_SYSCALL_ARG4(regs) BPF_CORE_READ(regs, r8)
/* A plain load: tp_btf hands over a BTF-typed pointer. It runs at every syscall's
 * exit; bpf_probe_read_kernel there made getppid() 2.4x slower instead of 1.8x. */
#define MT_SYSCALL_NR(regs) ((regs)->orig_ax)
/* i386 syscall ABI, the 32-bit entry's (int 0x80 and the compat table, from
 * any process): arguments in bx, cx, dx, si, di, of which the kernel uses the
 * low 32 bits (a user pointer among them is a 32-bit address). */
#define MT_SYSCALL32_ARG0(regs) ((u32)BPF_CORE_READ(regs, bx))
#define MT_SYSCALL32_ARG1(regs) ((u32)BPF_CORE_READ(regs, cx))
#define MT_SYSCALL32_ARG2(regs) ((u32)BPF_CORE_READ(regs, dx))
#define MT_SYSCALL32_ARG3(regs) ((u32)BPF_CORE_READ(regs, si))
#define MT_SYSCALL32_ARG4(regs) ((u32)BPF_CORE_READ(regs, di))
/* thread_info.status bit: a 32-bit syscall is active (TS_COMPAT in
 * arch/x86/include/asm/thread_info.h, unchanged since 2.6). The number alone
 * cannot tell the tables apart: i386's 175, 176 and 313 are rt_sigprocmask,
 * rt_sigpending and splice, x86_64's init_module, delete_module and finit_module. */
#define MT_TS_COMPAT 0x0002
#else
#error "modtrace's BPF objects are built for x86_64 only so far"
#endif

#endif
