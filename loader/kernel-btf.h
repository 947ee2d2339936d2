/* kernel-btf.c: the running kernel's BTF, parsed once. */
#ifndef MODTRACE_KERNEL_BTF_H
#define MODTRACE_KERNEL_BTF_H

#include <bpf/btf.h>

/* The running kernel's BTF, or NULL (errno set); freed by mt_probe_done(). */
struct btf *mt_vmlinux_btf(void);

#endif
