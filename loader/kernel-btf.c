/* The running kernel's BTF: parsed once (it is several MB) for the hook
 * probes, the names of link targets (bpf-links.c) and the layout of kernel
 * structs that user space walks through /proc/kcore. */
#include <errno.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel-btf.h"

#define EXPORT __attribute__((visibility("default")))

/* The kernel's BTF, parsed once for all the name probes (each parse reads
 * several MB) and kept until mt_probe_done(). */
static struct btf *vmlinux_btf;

static int find_in_vmlinux(const char *name, int kind)
{
	if (!vmlinux_btf && !(vmlinux_btf = btf__load_vmlinux_btf()))
		return -errno;
	return btf__find_by_name_kind(vmlinux_btf, name, kind) > 0 ? 1 : 0;
}

struct btf *mt_vmlinux_btf(void)
{
	if (!vmlinux_btf)
		vmlinux_btf = btf__load_vmlinux_btf();
	return vmlinux_btf;
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

/* Where a member of a kernel struct lies in the running kernel: its byte
 * offset from the kernel's BTF, -ENOENT when the struct or the member is not
 * there, -EINVAL for a bitfield. Lets user space walk kernel memory (read
 * through /proc/kcore) without hard-coding a layout that changes. */
EXPORT int mt_kernel_member_offset(const char *type, const char *member)
{
	const struct btf_type *t;
	const struct btf_member *m;
	int id;

	if (!vmlinux_btf && !(vmlinux_btf = btf__load_vmlinux_btf()))
		return -errno;
	id = btf__find_by_name_kind(vmlinux_btf, type, BTF_KIND_STRUCT);
	if (id <= 0)
		return -ENOENT;
	t = btf__type_by_id(vmlinux_btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(vmlinux_btf, m->name_off);

		if (!name || strcmp(name, member))
			continue;
		if (btf_member_bitfield_size(t, i) || btf_member_bit_offset(t, i) % 8)
			return -EINVAL;
		return btf_member_bit_offset(t, i) / 8;
	}
	return -ENOENT;
}
