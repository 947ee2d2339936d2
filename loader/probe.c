/* What this kernel supports, for `modtrace doctor` and for choosing hooks.
 * Probing loads tiny programs through libbpf but attaches nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define EXPORT __attribute__((visibility("default")))

/* 1 when supported, 0 when not, -errno when the probe itself failed
 * (typically -EPERM without CAP_BPF). */
EXPORT int mt_probe_map_ringbuf(void)
{
	return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
}

EXPORT int mt_probe_prog_raw_tracepoint(void)
{
	return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL);
}

EXPORT int mt_probe_prog_tracing(void)
{
	return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, NULL);
}

EXPORT int mt_probe_helper_loop(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_loop, NULL);
}

/* The kernel's BTF, parsed once for all the name probes (each parse reads
 * several MB) and kept until mt_probe_done(). */
static struct btf *vmlinux_btf;

static int find_in_vmlinux(const char *name, int kind)
{
	if (!vmlinux_btf && !(vmlinux_btf = btf__load_vmlinux_btf()))
		return -errno;
	return btf__find_by_name_kind(vmlinux_btf, name, kind) > 0 ? 1 : 0;
}

/* Frees what the probes cached; a later probe parses the BTF again. */
EXPORT void mt_probe_done(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
}

/* 1 when the running kernel's BTF has a function of this name. */
EXPORT int mt_probe_kernel_function(const char *name)
{
	return find_in_vmlinux(name, BTF_KIND_FUNC);
}

/* 1 when the kernel has a BTF-typed tracepoint of this name (what tp_btf
 * programs attach to: libbpf looks for the btf_trace_<name> typedef). */
EXPORT int mt_probe_kernel_tracepoint(const char *name)
{
	char typedef_name[128];

	snprintf(typedef_name, sizeof(typedef_name), "btf_trace_%s", name);
	return find_in_vmlinux(typedef_name, BTF_KIND_TYPEDEF);
}
