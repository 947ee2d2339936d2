// SPDX-License-Identifier: GPL-2.0
/* A BPF program that signals processes (what a rootkit uses to kill what
 * looks at it, and enforcement tools to stop what they forbid): loaded by the
 * host tests, never attached. Unlike bpf_probe_write_user, kernel lockdown
 * does not forbid it, so every test kernel can load it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("raw_tracepoint/sys_enter")
int mt_send_signal(void *ctx)
{
	bpf_send_signal(9);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
