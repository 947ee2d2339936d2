/* What this kernel supports, for `modtrace doctor` and for choosing hooks.
 * The feature probes load tiny programs through libbpf and attach nothing;
 * the hook probes (mt_probe_hook) attach a stub for a moment. */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel-btf.h"

#define EXPORT __attribute__((visibility("default")))

/* 1 when supported, 0 when not, -errno when the probe itself failed
 * (typically -EPERM without CAP_BPF). */
EXPORT int mt_probe_map_ringbuf(void)
{
	return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
}

EXPORT int mt_probe_helper_loop(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_loop, NULL);
}

/* Whether the 32-bit entry answers here: a child calls getpid through
 * int 0x80 (i386 number 20). A kernel built with IA32_EMULATION can still
 * refuse it (ia32_emulation=0 at boot, or a hypervisor that does not pass
 * the gate: the child dies of SIGSEGV), and doctor must not call a door
 * open that is shut. 1 yes, 0 no, -errno when the probe could not run. */
EXPORT int mt_probe_int80(void)
{
#if defined(__x86_64__)
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Only async-signal-safe calls here: the parent has threads. */
		struct rlimit none = { 0, 0 };
		long ret;

		struct sigaction dfl = { .sa_handler = SIG_DFL };

		/* The runtime's crash handlers are inherited: a refused gate must
		 * kill the child quietly, and leave no core file. */
		sigaction(SIGSEGV, &dfl, NULL);
		sigaction(SIGBUS, &dfl, NULL);
		sigaction(SIGILL, &dfl, NULL);
		setrlimit(RLIMIT_CORE, &none);
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
		_exit(ret == (long)getpid() ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
#else
	return 0;
#endif
}

/* ---- Hook stubs: does a hook of this kind really load and attach here? ----
 * A program type existing says little: a kernel can load fentry programs it
 * cannot attach (no ftrace direct calls), or have a function it cannot trace.
 * So each probe loads the smallest program of the very type and attach type
 * capture uses, attaches it to the very target, and lets go at once. */

enum mt_hook_probe {
	MT_PROBE_FENTRY = 0, /* BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY on a kernel function */
	MT_PROBE_KPROBE = 1, /* BPF_PROG_TYPE_KPROBE on a kprobe perf event */
	MT_PROBE_TP_BTF = 2, /* BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP on a BTF tracepoint */
};

/* r0 = 0; exit: a program every verifier accepts for these types. */
static const struct bpf_insn STUB[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

/* Whether this process holds what loading and attaching tracing programs
 * takes: CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON. */
static int may_trace(void)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &header, data))
		return 0;
#define HAS(cap) (data[(cap) / 32].effective & (1u << ((cap) % 32)))
	return HAS(CAP_SYS_ADMIN) || (HAS(CAP_BPF) && HAS(CAP_PERFMON));
#undef HAS
}

/* Errors that say nothing about the hook itself: the host out of a resource
 * for the moment, or a refusal (EPERM, EACCES) that missing privileges
 * explain. With the privileges, a refusal is the kernel's answer (a lockdown
 * or a security module forbidding the hook), and counts as a no. */
static int says_nothing(int err)
{
	if (err == EPERM || err == EACCES)
		return !may_trace();
	return err == ENOMEM || err == EMFILE || err == ENFILE || err == EBUSY || err == EAGAIN || err == EINTR;
}

/* The verdict for a step that failed with err: 0 (no) or -err (cannot tell). */
static int failed(int err, char *why, uint32_t why_len, const char *fmt, const char *target, const char *detail)
{
	int n = snprintf(why, why_len, fmt, target);

	if (n >= 0 && (uint32_t)n < why_len)
		snprintf(why + n, why_len - n, ": %s%s%s%s", strerror(err), *detail ? ": " : "", detail,
			 (err == EPERM || err == EACCES) && !says_nothing(err)
				 ? " (refused although this process may trace: kernel lockdown or a security module?)"
				 : "");
	return says_nothing(err) ? -err : 0;
}

/* The verifier's last words: the line that says why it refused. */
static void last_line(char *log)
{
	size_t len = strlen(log);
	char *start;

	while (len && (log[len - 1] == '\n' || log[len - 1] == ' '))
		log[--len] = 0;
	start = strrchr(log, '\n');
	if (start)
		memmove(log, start + 1, strlen(start + 1) + 1);
}

/* LINUX_VERSION_CODE of the running kernel. */
static uint32_t running_kernel_version(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0, patch = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u.%u", &major, &minor, &patch) < 2)
		return 0;
	return (major << 16) | (minor << 8) | (patch > 255 ? 255 : patch);
}

/* The ids of the stubs loaded: a tracing stub's program outlives its
 * close for a while (the kernel frees an attached one after an RCU grace
 * period), and the scan events (capture/scan-events.ts) must not report
 * modtrace's own stubs leaving as BPF programs that came and went. */
#define OWN_IDS_MAX 256
static uint32_t own_ids[OWN_IDS_MAX];
static uint32_t own_ids_count;

static void remember_stub(int fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (own_ids_count < OWN_IDS_MAX && !bpf_obj_get_info_by_fd(fd, &info, &len))
		own_ids[own_ids_count++] = info.id;
}

/* Copies up to max ids of the stubs loaded so far into out; returns how many there are. */
EXPORT uint32_t mt_probe_stub_ids(uint32_t *out, uint32_t max)
{
	memcpy(out, own_ids, (max < own_ids_count ? max : own_ids_count) * sizeof(*out));
	return own_ids_count;
}

/* Loads the stub; on failure, again with the verifier's log to say why. */
static int load_stub(enum bpf_prog_type type, enum bpf_attach_type attach, uint32_t btf_id, char *log,
		     size_t log_len)
{
	/* kern_version: kprobe programs had to state it before 5.0. */
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach, .attach_btf_id = btf_id,
		    .kern_version = type == BPF_PROG_TYPE_KPROBE ? running_kernel_version() : 0);
	int fd, err;

	log[0] = 0;
	fd = bpf_prog_load(type, NULL, "GPL", STUB, 2, &opts);
	if (fd >= 0) {
		remember_stub(fd);
		return fd;
	}
	err = errno;
	opts.log_buf = log;
	opts.log_size = log_len;
	opts.log_level = 1;
	fd = bpf_prog_load(type, NULL, "GPL", STUB, 2, &opts);
	if (fd >= 0) { /* accepted the second time: nothing to say about the first */
		remember_stub(fd);
		return fd;
	}
	last_line(log);
	errno = err;
	return -1;
}

/* A tracing stub (fentry or tp_btf) on the BTF type named prefix+target. */
static int probe_tracing(enum bpf_attach_type attach, const char *target, char *why, uint32_t why_len)
{
	const int kind = attach == BPF_TRACE_RAW_TP ? BTF_KIND_TYPEDEF : BTF_KIND_FUNC;
	const char *what = attach == BPF_TRACE_RAW_TP ? "tracepoint" : "function";
	char name[128], log[512];
	struct btf *vmlinux;
	int id, prog, link, err;

	if (!(vmlinux = mt_vmlinux_btf()))
		return failed(errno, why, why_len, "reading the kernel's BTF for %s", target, "");
	snprintf(name, sizeof(name), "%s%s", attach == BPF_TRACE_RAW_TP ? "btf_trace_" : "", target);
	id = btf__find_by_name_kind(vmlinux, name, kind);
	if (id <= 0) {
		snprintf(why, why_len, "the kernel's BTF has no %s %s", what, target);
		return 0;
	}
	prog = load_stub(BPF_PROG_TYPE_TRACING, attach, id, log, sizeof(log));
	if (prog < 0)
		return failed(errno, why, why_len, attach == BPF_TRACE_RAW_TP ? "loading a tp_btf stub on %s" : "loading a fentry stub on %s", target, log);
	/* libbpf turns this into BPF_RAW_TRACEPOINT_OPEN on kernels without tracing links, as capture's attach does. */
	link = bpf_link_create(prog, 0, attach, NULL);
	err = errno;
	close(prog);
	if (link < 0)
		return failed(err, why, why_len, attach == BPF_TRACE_RAW_TP ? "attaching a tp_btf stub to %s" : "attaching a fentry stub to %s", target, "");
	close(link);
	return 1;
}

/* A kprobe stub on the kernel function target, through the kprobe PMU as
 * libbpf attaches ksyscall and kprobe programs. (Kernels with only the legacy
 * kprobe_events interface predate the BPF ring buffer capture needs.) */
static int probe_kprobe(const char *target, char *why, uint32_t why_len)
{
	struct perf_event_attr attr = { .size = sizeof(attr) };
	char log[512];
	int type, event, prog, err;
	FILE *f = fopen("/sys/bus/event_source/devices/kprobe/type", "r");

	if (!f) {
		if (errno != ENOENT)
			return failed(errno, why, why_len, "reading the kprobe PMU's type for %s", target, "");
		snprintf(why, why_len, "this kernel has no kprobes (no kprobe PMU: CONFIG_KPROBES off?)");
		return 0;
	}
	err = fscanf(f, "%d", &type) == 1 ? 0 : EIO;
	fclose(f);
	if (err)
		return failed(err, why, why_len, "reading the kprobe PMU's type for %s", target, "");
	attr.type = type;
	attr.config1 = (uint64_t)(uintptr_t)target; /* kprobe_func */
	event = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (event < 0)
		return failed(errno, why, why_len, "creating a kprobe on %s", target, "");
	prog = load_stub(BPF_PROG_TYPE_KPROBE, 0, 0, log, sizeof(log));
	if (prog < 0) {
		err = errno;
		close(event);
		return failed(err, why, why_len, "loading a kprobe stub for %s", target, log);
	}
	err = ioctl(event, PERF_EVENT_IOC_SET_BPF, prog) ? errno : 0;
	close(prog);
	close(event);
	if (err)
		return failed(err, why, why_len, "attaching a kprobe stub to %s", target, "");
	return 1;
}

/* 1: a stub of this kind loaded and attached to target. 0: it did not, and
 * why says so. -errno: the probe could not tell (why says what failed). */
EXPORT int mt_probe_hook(int kind, const char *target, char *why, uint32_t why_len)
{
	why[0] = 0;
	switch (kind) {
	case MT_PROBE_FENTRY:
		return probe_tracing(BPF_TRACE_FENTRY, target, why, why_len);
	case MT_PROBE_TP_BTF:
		return probe_tracing(BPF_TRACE_RAW_TP, target, why, why_len);
	case MT_PROBE_KPROBE:
		return probe_kprobe(target, why, why_len);
	}
	snprintf(why, why_len, "unknown hook kind %d", kind);
	return -EINVAL;
}
