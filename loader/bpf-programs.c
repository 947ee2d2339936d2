/* The BPF programs loaded in the kernel, for the programs watch: each one's
 * id, type, owner and name, and which of the watched helpers it calls. An
 * eBPF rootkit is no module: it is a program that writes user memory
 * (bpf_probe_write_user), changes what a kernel function returns
 * (bpf_override_return) or signals processes (bpf_send_signal). The calls are
 * read from the program as the kernel holds it (its xlated instructions),
 * where a helper call's immediate is the helper's address less
 * __bpf_call_base's, as bpftool reads it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#define EXPORT __attribute__((visibility("default")))

/* One program, as the TypeScript side reads it (48 bytes). */
struct mt_bpf_prog {
	uint32_t id;
	uint32_t type;
	uint32_t uid;
	uint32_t calls_known; /* 0 when the kernel hid the calls' targets (no raw dump) */
	uint64_t load_time; /* ns since boot */
	char name[16];
	uint64_t helpers; /* bit k: calls targets[k] */
};

/* Whether each call instruction's target is among targets: sets out->helpers. */
static void scan_calls(const struct bpf_insn *insns, uint32_t count, uint64_t call_base,
		       const uint64_t *targets, uint32_t ntargets, struct mt_bpf_prog *out)
{
	for (uint32_t i = 0; i < count; i++) {
		const struct bpf_insn *in = &insns[i];

		if (in->code != (BPF_JMP | BPF_CALL) || in->src_reg != 0)
			continue;
		if (in->imm)
			out->calls_known = 1;
		uint64_t target = call_base + (int64_t)in->imm;
		for (uint32_t k = 0; k < ntargets && k < 64; k++)
			if (targets[k] && target == targets[k])
				out->helpers |= 1ull << k;
	}
}

/* The first program with an id above after_id into *out: 1, or 0 when there
 * is none, or -errno. A program unloaded between the id and its fd is
 * skipped. */
EXPORT int mt_bpf_program_after(uint32_t after_id, const uint64_t *targets, uint32_t ntargets,
				uint64_t call_base, struct mt_bpf_prog *out)
{
	uint32_t id = after_id;

	for (;;) {
		if (bpf_prog_get_next_id(id, &id))
			return errno == ENOENT ? 0 : -errno;
		int fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		struct bpf_prog_info info = {};
		uint32_t len = sizeof(info);
		int err = bpf_obj_get_info_by_fd(fd, &info, &len);
		if (err) {
			err = -errno;
			close(fd);
			return err;
		}
		memset(out, 0, sizeof(*out));
		out->id = info.id;
		out->type = info.type;
		out->uid = info.created_by_uid;
		out->load_time = info.load_time;
		memcpy(out->name, info.name, sizeof(out->name) - 1);
		uint32_t count = info.xlated_prog_len / sizeof(struct bpf_insn);
		if (count) {
			struct bpf_insn *insns = calloc(count, sizeof(*insns));
			if (!insns) {
				close(fd);
				return -ENOMEM;
			}
			struct bpf_prog_info again = {};
			len = sizeof(again);
			again.xlated_prog_len = count * sizeof(*insns);
			again.xlated_prog_insns = (uint64_t)(uintptr_t)insns;
			if (!bpf_obj_get_info_by_fd(fd, &again, &len))
				scan_calls(insns, again.xlated_prog_len / sizeof(*insns) < count ? again.xlated_prog_len / sizeof(*insns) : count,
					   call_base, targets, ntargets, out);
			free(insns);
		}
		close(fd);
		return 1;
	}
}
