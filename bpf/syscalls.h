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
/* A plain load: tp_btf hands over a BTF-typed pointer. It runs at every syscall's
 * exit; bpf_probe_read_kernel there made getppid() 2.4x slower instead of 1.8x. */
#define MT_SYSCALL_NR(regs) ((regs)->orig_ax)
#else
#error "modtrace's BPF objects are built for x86_64 only so far"
#endif

#endif
