/* Where BPF programs are attached, for the programs inventory: a program
 * does nothing until it is attached, and where (which kernel function,
 * tracepoint or hook) says what it can see and change. Two ways in:
 * - links (fentry, fexit, fmod_ret, lsm, tp_btf, raw tracepoints, iterators,
 *   cgroups, XDP, ...): the kernel's link info names the program and its
 *   target, a tracing target by its BTF id, named here from that BTF;
 * - perf events (kprobes, uprobes, tracepoints attached the older way, or
 *   through a perf_event link, whose info 6.1 does not fill): the kernel
 *   answers BPF_TASK_FD_QUERY for the perf event's descriptor in the
 *   process that holds it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#define EXPORT __attribute__((visibility("default")))
#define KERNEL_ENOTSUPP 524 /* the kernel's own errno for a descriptor that is no perf event: not in uapi */

#include "kernel-btf.h"

/* One link, as the TypeScript side reads it (152 bytes). */
struct mt_bpf_link {
	uint32_t id;
	uint32_t type; /* enum bpf_link_type */
	uint32_t prog_id;
	uint32_t attach_type; /* tracing links: enum bpf_attach_type */
	uint32_t target_obj_id; /* tracing links: the BTF object (vmlinux's, a module's) */
	uint32_t target_btf_id; /* tracing links: the function's BTF id in it */
	char target[128]; /* a raw tracepoint's name, or the tracing target's BTF name */
};

/* The name of type id in the kernel BTF object btf_obj_id (vmlinux, or a
 * module's split on it), into out; "" when it cannot be had. */
static void btf_name(uint32_t btf_obj_id, uint32_t type_id, char *out, size_t cap)
{
	struct btf *vmlinux = mt_vmlinux_btf();
	struct bpf_btf_info info = {};
	uint32_t len = sizeof(info);
	char name[64] = "";
	struct btf *btf = NULL;
	const struct btf_type *t;
	int fd;

	out[0] = 0;
	if (!vmlinux || !btf_obj_id)
		return;
	fd = bpf_btf_get_fd_by_id(btf_obj_id);
	if (fd < 0)
		return;
	info.name = (uint64_t)(uintptr_t)name;
	info.name_len = sizeof(name);
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf) {
		if (!strcmp(name, "vmlinux"))
			btf = vmlinux;
		else
			btf = btf__load_from_kernel_by_id_split(btf_obj_id, vmlinux);
	}
	close(fd);
	if (!btf)
		return;
	t = btf__type_by_id(btf, type_id);
	if (t) {
		const char *n = btf__name_by_offset(btf, t->name_off);

		if (n)
			snprintf(out, cap, "%s", n);
	}
	if (btf != vmlinux)
		btf__free(btf);
}

/* The first link with an id above after_id into *out: 1, or 0 when there is
 * none, or -errno. A link gone between its id and its fd is skipped. */
EXPORT int mt_bpf_link_after(uint32_t after_id, struct mt_bpf_link *out)
{
	uint32_t id = after_id;

	for (;;) {
		struct bpf_link_info info = {};
		uint32_t len = sizeof(info);
		int fd;

		if (bpf_link_get_next_id(id, &id))
			return errno == ENOENT ? 0 : -errno;
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		memset(out, 0, sizeof(*out));
		/* A raw tracepoint's name comes back only into a buffer given with the call. */
		info.raw_tracepoint.tp_name = (uint64_t)(uintptr_t)out->target;
		info.raw_tracepoint.tp_name_len = sizeof(out->target);
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			int err = -errno;

			close(fd);
			return err;
		}
		close(fd);
		out->id = info.id;
		out->type = info.type;
		out->prog_id = info.prog_id;
		if (info.type == BPF_LINK_TYPE_RAW_TRACEPOINT) {
			out->target[sizeof(out->target) - 1] = 0;
		} else {
			memset(out->target, 0, sizeof(out->target));
			if (info.type == BPF_LINK_TYPE_TRACING) {
				out->attach_type = info.tracing.attach_type;
				out->target_obj_id = info.tracing.target_obj_id;
				out->target_btf_id = info.tracing.target_btf_id;
				btf_name(out->target_obj_id, out->target_btf_id, out->target, sizeof(out->target));
			}
		}
		return 1;
	}
}

/* A perf event's BPF program, as the process holding it sees it (280 bytes). */
struct mt_bpf_perf {
	uint32_t prog_id;
	uint32_t fd_type; /* enum bpf_task_fd_type: kprobe, kretprobe, uprobe, uretprobe, tracepoint, raw_tracepoint */
	__u64 probe_offset;
	__u64 probe_addr;
	char name[256]; /* the probed function, file or tracepoint */
};

/* The program attached to descriptor fd of process pid: 1, 0 when it holds
 * none (not a perf event with a program), or -errno. */
EXPORT int mt_bpf_task_fd(uint32_t pid, uint32_t fd, struct mt_bpf_perf *out)
{
	uint32_t len = sizeof(out->name);

	memset(out, 0, sizeof(*out));
	if (bpf_task_fd_query(pid, fd, 0, out->name, &len, &out->prog_id, &out->fd_type, &out->probe_offset, &out->probe_addr))
		return errno == ENOENT || errno == EBADF || errno == KERNEL_ENOTSUPP || errno == EOPNOTSUPP ? 0 : -errno;
	out->name[sizeof(out->name) - 1] = 0;
	return 1;
}
