/* The module syscalls as the raw_syscalls tracepoints see them: numbers and
 * argument registers of the architecture the object is built for. */
#ifndef MODTRACE_SYSCALLS_H
#define MODTRACE_SYSCALLS_H

#if defined(__TARGET_ARCH_x86)
#define MT_NR_INIT_MODULE 175
#define MT_NR_DELETE_MODULE 176
#define MT_NR_FINIT_MODULE 313
/* x86_64 syscall ABI: arguments in di, si, dx, r10, r8, r9. */
#define MT_SYSCALL_ARG0(regs) BPF_CORE_READ(regs, di)
#define MT_SYSCALL_ARG1(regs) BPF_CORE_READ(regs, si)
#define MT_SYSCALL_ARG2(regs) BPF_CORE_READ(regs, dx)
/* A plain load: tp_btf hands over a BTF-typed pointer. It runs at every syscall's
 * exit; bpf_probe_read_kernel there made getppid() 2.4x slower instead of 1.8x. */
#define MT_SYSCALL_NR(regs) ((regs)->orig_ax)
/* What the kernel calls its syscall functions (fentry targets). */
#define MT_SYSCALL_PREFIX "__x64_sys_"
#else
#error "modtrace's BPF objects are built for x86_64 only so far"
#endif

#endif
