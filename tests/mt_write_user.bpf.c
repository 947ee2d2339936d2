// SPDX-License-Identifier: GPL-2.0
/* What an eBPF rootkit calls to change what processes read: the host tests
 * load it (bpftool prog load, never attached, so it never runs) and expect
 * the BPF programs watch to name it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("raw_tracepoint/sys_enter")
int mt_write_user(void *ctx)
{
	char zero = 0;

	bpf_probe_write_user((void *)0, &zero, sizeof(zero));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
