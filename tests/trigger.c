/* Calls the module syscalls with known arguments and prints, one JSON object
 * per line, exactly what it called and what the kernel answered: the ground
 * truth the host tests compare modtrace's output with.
 *
 *   trigger basic FILE   init_module, finit_module(FILE), delete_module
 *   trigger edge         NULL/unmapped pointers, a 200-byte name, non-UTF-8
 *   trigger thread       delete_module from a second thread
 *   trigger uid UID      delete_module after dropping to uid/gid UID
 *   trigger burst N      N delete_module calls, as fast as possible
 *   trigger getppid N    N getppid calls: the cost a tracer adds to unrelated syscalls
 *   trigger flood UID S  as uid/gid UID, delete_module as fast as possible for S seconds
 *                        or until SIGTERM, whichever comes first
 *   trigger image FILE   init_module of FILE's bytes, read into memory (a load from memory)
 *   trigger hostile UID N COMM NAME FILE
 *                        as uid/gid UID under the process name COMM, N rounds of
 *                        delete_module("lkrg"), delete_module(NAME), init_module from
 *                        memory with NAME as parameters, finit_module(FILE) with NAME as
 *                        parameters: an unprivileged caller choosing what modtrace shows;
 *                        prints one summary line
 *   trigger time CMD...  runs CMD and prints its wall-clock time (benchmarks in the VM)
 *   trigger int80 load FILE    finit_module(FILE) through the 32-bit entry (int 0x80)
 *   trigger int80 unload NAME  delete_module(NAME, O_NONBLOCK) through the 32-bit entry
 *   trigger int80 getppid      i386 getppid (64) beside the 64-bit one
 *   trigger int80 noise N      N each of i386 rt_sigprocmask (175), rt_sigpending (176)
 *                              and splice (313): x86_64's init_module, delete_module and
 *                              finit_module numbers, and no module call at all
 *   trigger load-unlinked FILE      finit_module of a copy of FILE that was unlinked first
 *   trigger load-tmpfile FILE DIR   finit_module of an O_TMPFILE in DIR holding FILE's bytes
 *   trigger load-private-mount FILE DIR   in a mount namespace of its own, a tmpfs over
 *                        DIR, FILE copied into it under its own name, finit_module of that
 *   trigger load-swap FILE DECOY    finit_module of FILE (a module whose init is slow) while
 *                        a second thread dup2()s DECOY over the fd once the kernel has
 *                        read the file (the module's initstate is "coming")
 *   trigger autoload UID [N]  as uid/gid UID, N (default 1) DCCP sockets: each makes the
 *                        kernel ask modprobe for the protocol (module_request) as long as
 *                        DCCP is not loaded; prints the last socket's answer and the count
 *   trigger skip-ring ID     as root, another process: the BPF ring buffer map ID's
 *                        read (consumer) position set to its write position, every
 *                        record in it skipped; prints how many bytes
 *   trigger getpgrp      getpgrp() beside the process group /proc gives
 *   trigger kexec file FILE CMDLINE   kexec_file_load(FILE, no initramfs, CMDLINE): stages FILE
 *   trigger kexec file-unload         kexec_file_load(KEXEC_FILE_UNLOAD): unstages it
 *   trigger kexec unload              kexec_load with no segments: unstages what kexec_load staged
 *   trigger kexec unload32            the same through the 32-bit entry (i386 kexec_load, 283)
 *   trigger context      what /proc says of this process and its ancestors (login uid,
 *                        session, euid, effective capabilities, cgroup; each ancestor's
 *                        pid, comm, executable, start time), then delete_module
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>

/* Set by SIGTERM: a flood stops when its driver has what it needs. */
static volatile sig_atomic_t stop;

static void on_sigterm(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_hex(const char *key, const void *p, size_t n)
{
	printf(",\"%s\":\"", key);
	for (size_t i = 0; i < n; i++)
		printf("%02x", ((const unsigned char *)p)[i]);
	printf("\"");
}

static void report(const char *call, long ret, int err)
{
	printf("{\"call\":\"%s\",\"pid\":%d,\"tid\":%d,\"ppid\":%d,\"uid\":%u,\"gid\":%u,\"ret\":%ld",
	       call, getpid(), gettid(), getppid(), getuid(), getgid(), ret < 0 ? -(long)err : ret);
}

static void delete_module(const char *name, size_t name_len, unsigned int flags)
{
	long ret = syscall(SYS_delete_module, name, flags);
	int err = errno;

	report("delete_module", ret, err);
	printf(",\"name_ptr\":%lu,\"flags\":%u", (unsigned long)name, flags);
	if (name)
		print_hex("name_hex", name, name_len);
	printf("}\n");
}

static void init_module(void *image, unsigned long len, const char *params)
{
	long ret = syscall(SYS_init_module, image, len, params);
	int err = errno;

	report("init_module", ret, err);
	printf(",\"image\":%lu,\"len\":%lu,\"params_ptr\":%lu", (unsigned long)image, len,
	       (unsigned long)params);
	if (params)
		print_hex("params_hex", params, strlen(params));
	printf("}\n");
}

static void finit_module(int fd, const char *params, int flags)
{
	long ret = syscall(SYS_finit_module, fd, params, flags);
	int err = errno;

	report("finit_module", ret, err);
	printf(",\"fd\":%d,\"flags\":%d,\"params_ptr\":%lu", fd, flags, (unsigned long)params);
	if (params)
		print_hex("params_hex", params, strlen(params));
	printf("}\n");
}

/* Reads a whole small /proc file into buf (NUL-terminated); its length, or -1. */
static long read_proc(int pid, const char *what, char *buf, size_t size)
{
	char path[64];
	int fd;
	long n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	else
		snprintf(path, sizeof(path), "/proc/self/%s", what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = 0;
	return n;
}

/* A /proc/PID/status line's value, e.g. "CapEff:". */
static const char *status_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	return p ? p + strlen(key) + strspn(p + strlen(key), " \t") : "";
}

/* The ancestors, the parent first, as /proc/PID/stat and /proc/PID/exe say:
 * comm and executable in hex (any bytes), start time in clock ticks since boot. */
static void print_ancestors(int pid)
{
	char buf[4096], exe[4096];
	int first = 1;

	printf(",\"clk_tck\":%ld,\"ancestors\":[", sysconf(_SC_CLK_TCK));
	for (int depth = 0; depth < 16 && read_proc(pid, "stat", buf, sizeof(buf)) > 0; depth++) {
		char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
		int ppid = 0;
		unsigned long long start = 0;
		long n;

		if (!open_paren || !close_paren)
			break;
		/* After "(comm) ": state ppid …, start time is field 22 of the line. */
		sscanf(close_paren + 2, "%*c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &ppid, &start);
		if (depth > 0) {
			printf("%s{\"pid\":%d,\"start_ticks\":%llu", first ? "" : ",", pid, start);
			print_hex("comm_hex", open_paren + 1, close_paren - open_paren - 1);
			snprintf(exe, 64, "/proc/%d/exe", pid);
			n = readlink(exe, buf, sizeof(buf));
			if (n >= 0)
				print_hex("exe_hex", buf, n);
			printf("}");
			first = 0;
		}
		if (ppid == 0)
			break;
		pid = ppid;
	}
	printf("]");
}

static void context(void)
{
	char status[8192], buf[4096];

	read_proc(0, "status", status, sizeof(status));
	printf("{\"call\":\"context\",\"pid\":%d,\"euid\":%u", getpid(), geteuid());
	read_proc(0, "loginuid", buf, sizeof(buf));
	printf(",\"loginuid\":%lu", strtoul(buf, NULL, 10));
	read_proc(0, "sessionid", buf, sizeof(buf));
	printf(",\"sessionid\":%lu", strtoul(buf, NULL, 10));
	printf(",\"cap_eff\":\"%.16s\"", status_field(status, "CapEff:"));
	/* The network namespace's link reads "net:[INODE]". */
	{
		ssize_t n = readlink("/proc/self/ns/net", buf, sizeof(buf) - 1);
		char *inode;

		buf[n > 0 ? n : 0] = 0;
		inode = strchr(buf, '[');
		printf(",\"net_ns\":%lu", inode ? strtoul(inode + 1, NULL, 10) : 0);
	}
	read_proc(0, "cgroup", buf, sizeof(buf));
	/* The v2 line, "0::PATH". */
	{
		char *v2 = strstr(buf, "0::");
		size_t len = v2 ? strcspn(v2 + 3, "\n") : 0;

		print_hex("cgroup_hex", v2 ? v2 + 3 : "", len);
	}
	print_ancestors(getpid());
	printf("}\n");
	delete_module("mt_context", 10, 0);
}

static void *unmapped_address(void)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(p, 4096);
	return p;
}

/* A syscall through the 32-bit entry, which a 64-bit process may use too
 * where the kernel has IA32_EMULATION: i386 numbers, arguments in ebx, ecx,
 * edx, esi, edi (32 bits each, so pointers must lie below 4 GiB: see low_copy()).
 * The kernel clears r8-r11 on the way back. */
static long int80(long nr, long a, long b, long c, long d, long e)
{
	long ret;

	asm volatile("int $0x80"
		     : "=a"(ret)
		     : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
		     : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

/* A copy of s in memory a 32-bit pointer reaches (MAP_32BIT: the low 2 GiB). */
static char *low_copy(const char *s)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (p == MAP_FAILED || strlen(s) >= 4096) {
		perror("mmap MAP_32BIT");
		exit(1);
	}
	strcpy(p, s);
	return p;
}

static int int80_scenario(int argc, char **argv)
{
	const char *what = argc > 2 ? argv[2] : "";

	if (!strcmp(what, "load") && argc == 4) {
		int fd = open(argv[3], O_RDONLY | O_CLOEXEC);
		long ret = int80(350, fd, (long)low_copy(""), 0, 0, 0); /* i386 finit_module */

		report("finit_module", ret < 0 ? -1 : ret, (int)-ret);
		printf(",\"entry\":\"int80\",\"fd\":%d}\n", fd);
		return ret < 0;
	}
	if (!strcmp(what, "unload") && argc == 4) {
		long ret = int80(129, (long)low_copy(argv[3]), O_NONBLOCK, 0, 0, 0); /* i386 delete_module */

		report("delete_module", ret < 0 ? -1 : ret, (int)-ret);
		printf(",\"entry\":\"int80\"}\n");
		return ret < 0;
	}
	if (!strcmp(what, "noise") && argc == 4) {
		long n = strtol(argv[3], NULL, 10), odd = 0;
		char *set = low_copy("01234567");

		for (long i = 0; i < n; i++) {
			odd += int80(175, SIG_BLOCK, 0, 0, 8, 0) != 0; /* rt_sigprocmask: blocks nothing */
			odd += int80(176, (long)set, 8, 0, 0, 0) != 0; /* rt_sigpending */
			odd += int80(313, -1, 0, -1, 0, 0) != 0;       /* splice of 0 bytes: returns at once */
		}
		printf("{\"call\":\"int80 noise\",\"pid\":%d,\"calls\":%ld,\"unexpected\":%ld}\n", getpid(), 3 * n, odd);
		return odd != 0;
	}
	if (!strcmp(what, "getppid") && argc == 3) {
		/* i386 getppid (64): what the 32-bit dispatch answers */
		printf("{\"call\":\"int80 getppid\",\"pid\":%d,\"ret\":%ld,\"getppid\":%d}\n", getpid(), int80(64, 0, 0, 0, 0, 0), getppid());
		return 0;
	}
	fprintf(stderr, "usage: trigger int80 load FILE | int80 unload NAME | int80 noise N | int80 getppid\n");
	return 2;
}

/* kexec: a kernel staged to replace this one. Only calls that stage nothing
 * lasting (an unload) or that the test undoes (file, then file-unload). */
static int kexec_scenario(int argc, char **argv)
{
	const char *what = argc > 2 ? argv[2] : "";
	long ret;

	if (!strcmp(what, "file") && argc == 5) {
		int fd = open(argv[3], O_RDONLY | O_CLOEXEC);
		unsigned long flags = 4; /* KEXEC_FILE_NO_INITRAMFS */

		if (fd < 0) {
			perror(argv[3]);
			return 1;
		}
		/* cmdline_len counts the NUL */
		ret = syscall(SYS_kexec_file_load, fd, -1, strlen(argv[4]) + 1, argv[4], flags);
		report("kexec_file_load", ret, errno);
		printf(",\"kernel_fd\":%d,\"initrd_fd\":-1,\"flags\":%lu}\n", fd, flags);
		return 0;
	}
	if (!strcmp(what, "file-unload") && argc == 3) {
		ret = syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 1UL /* KEXEC_FILE_UNLOAD */);
		report("kexec_file_load", ret, errno);
		printf(",\"kernel_fd\":-1,\"initrd_fd\":-1,\"flags\":1}\n");
		return 0;
	}
	if (!strcmp(what, "unload") && argc == 3) {
		ret = syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL);
		report("kexec_load", ret, errno);
		printf(",\"entry\":0,\"nr_segments\":0,\"flags\":0}\n");
		return 0;
	}
	if (!strcmp(what, "unload32") && argc == 3) {
		/* The compat call refuses KEXEC_ARCH_DEFAULT: a 32-bit caller names
		 * the kernel's architecture (KEXEC_ARCH_X86_64, 62 << 16). */
		long flags = 62L << 16;

		ret = int80(283, 0, 0, 0, flags, 0); /* i386 kexec_load: entry, nr_segments, segments, flags */
		report("kexec_load", ret < 0 ? -1 : ret, (int)-ret);
		printf(",\"entry\":0,\"nr_segments\":0,\"flags\":%ld,\"entry_point\":\"int80\"}\n", flags);
		return 0;
	}
	fprintf(stderr, "usage: trigger kexec file FILE CMDLINE | kexec file-unload | kexec unload | kexec unload32\n");
	return 2;
}

/* Copies the file at src into fd (at its start). */
static void copy_into(const char *src, int fd)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (in < 0) {
		perror(src);
		exit(1);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n) {
			perror("write");
			exit(1);
		}
	close(in);
	lseek(fd, 0, SEEK_SET);
}

/* The same file, read-only, and the writable fd closed: the kernel refuses
 * to load a file that anyone has open for writing (ETXTBSY). Through
 * /proc/self/fd, which reaches files with no name left too. */
static int reopen_readonly(int fd)
{
	char path[64];
	int ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0) {
		perror(path);
		exit(1);
	}
	close(fd);
	return ro;
}

/* The module a file holds by its name: base name, no .ko, '-' as '_'. */
static void module_of(const char *path, char *name, size_t size)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	snprintf(name, size, "%s", base);
	if (strstr(name, ".ko"))
		*strstr(name, ".ko") = 0;
	for (char *c = name; *c; c++)
		if (*c == '-')
			*c = '_';
}

struct swap {
	int fd, decoy;
	char initstate[256];
};

/* Waits for the kernel to have read the module (it is "coming": loaded,
 * its init running), then points the loading fd at the decoy. */
static void *swap_fd(void *arg)
{
	struct swap *w = arg;
	char state[32] = "";

	for (int i = 0; i < 200000 && strncmp(state, "coming", 6); i++) {
		int f = open(w->initstate, O_RDONLY);

		if (f >= 0) {
			ssize_t n = read(f, state, sizeof(state) - 1);

			state[n > 0 ? n : 0] = 0;
			close(f);
		}
		if (strncmp(state, "coming", 6))
			sched_yield();
	}
	dup2(w->decoy, w->fd);
	return NULL;
}

static int load_scenario(int argc, char **argv)
{
	const char *what = argv[1];

	if (!strcmp(what, "load-unlinked") && argc == 3) {
		char path[] = "/tmp/mt-unlinked-XXXXXX";
		int fd = mkstemp(path);

		copy_into(argv[2], fd);
		unlink(path);
		finit_module(reopen_readonly(fd), "", 0);
		return 0;
	}
	if (!strcmp(what, "load-tmpfile") && argc == 4) {
		int fd = open(argv[3], O_TMPFILE | O_RDWR, 0600);

		if (fd < 0) {
			perror("O_TMPFILE");
			return 1;
		}
		copy_into(argv[2], fd);
		finit_module(reopen_readonly(fd), "", 0);
		return 0;
	}
	if (!strcmp(what, "load-private-mount") && argc == 4) {
		const char *base = strrchr(argv[2], '/') ? strrchr(argv[2], '/') + 1 : argv[2];
		/* Opened first: the mount may hide it (a tmpfs over its own directory). */
		int src = open(argv[2], O_RDONLY | O_CLOEXEC), fd;
		char path[4096], from[64];

		snprintf(from, sizeof(from), "/proc/self/fd/%d", src);
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("mt-private", argv[3], "tmpfs", 0, NULL)) {
			perror("a private mount");
			return 1;
		}
		snprintf(path, sizeof(path), "%s/%s", argv[3], base);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		copy_into(from, fd);
		finit_module(reopen_readonly(fd), "", 0);
		return 0;
	}
	if (!strcmp(what, "load-swap") && argc == 4) {
		struct swap w = { .fd = open(argv[2], O_RDONLY), .decoy = open(argv[3], O_RDONLY) };
		char name[64];
		pthread_t t;

		module_of(argv[2], name, sizeof(name));
		snprintf(w.initstate, sizeof(w.initstate), "/sys/module/%s/initstate", name);
		pthread_create(&t, NULL, swap_fd, &w);
		finit_module(w.fd, "", 0);
		pthread_join(t, NULL);
		return 0;
	}
	fprintf(stderr, "usage: trigger load-unlinked FILE | load-tmpfile FILE DIR | load-private-mount FILE DIR | load-swap FILE DECOY\n");
	return 2;
}

static void *second_thread(void *arg)
{
	delete_module("mt_from_thread", 14, 0);
	return arg;
}

/* The race scenario's name, flipped whole (one 8-byte store) between two
 * names of up to 7 bytes by a second thread while the first unloads. */
static volatile union {
	char s[8];
	uint64_t w;
} race_name;
static uint64_t race_words[2];
static volatile long flips;

/* Pins the calling thread to one CPU: the race needs two running at once. */
static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *flip_name(void *arg)
{
	pin_to(1);
	while (!stop) {
		/* Each name stays a while, so that either is there as often. */
		race_name.w = race_words[flips & 1];
		for (volatile int i = 0; i < 64; i++)
			;
		flips++;
	}
	return arg;
}

/* The whole file at path, or NULL after saying why. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;

	if (fd < 0 || fstat(fd, &st) || !(buf = malloc(st.st_size ? st.st_size : 1))) {
		perror(path);
		return NULL;
	}
	for (off_t got = 0; got < st.st_size;) {
		ssize_t n = read(fd, buf + got, st.st_size - got);

		if (n <= 0) {
			perror(path);
			return NULL;
		}
		got += n;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

/* The consumer page of ring buffer map `id`, mapped writable as any holder
 * of the map may, moved to the producer position: what a root process that
 * wants the monitor to miss what is waiting can do. Returns bytes skipped. */
static long skip_ring(unsigned int id)
{
	union bpf_attr attr = { .map_id = id };
	long page = sysconf(_SC_PAGESIZE);
	int fd = syscall(SYS_bpf, BPF_MAP_GET_FD_BY_ID, &attr, sizeof(attr));
	unsigned long *cons;
	const unsigned long *prod;
	long skipped;

	if (fd < 0) {
		perror("BPF_MAP_GET_FD_BY_ID");
		exit(1);
	}
	cons = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	prod = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	if (cons == MAP_FAILED || prod == MAP_FAILED) {
		perror("mmap ring");
		exit(1);
	}
	skipped = (long)(__atomic_load_n(prod, __ATOMIC_ACQUIRE) - __atomic_load_n(cons, __ATOMIC_ACQUIRE));
	__atomic_store_n(cons, __atomic_load_n(prod, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
	return skipped;
}

int main(int argc, char **argv)
{
	const char *scenario = argc > 1 ? argv[1] : "";

	prctl(PR_SET_NAME, "mt-trigger");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(scenario, "basic") && argc == 3) {
		static char image[64] = "\x7f" "ELF not really a module";
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		init_module(image, sizeof(image), "p=1 q=two");
		finit_module(fd, "x=1", 1 | 2);
		delete_module("mt_dummy", 8, O_NONBLOCK | O_TRUNC);
		close(fd);
	} else if (!strcmp(scenario, "edge")) {
		char long_name[201];
		static const char not_utf8[] = "mod\xff\xfe\xc3(\xed\xa0\x80z";

		memset(long_name, 'n', 200);
		long_name[200] = 0;
		delete_module(NULL, 0, 0);
		delete_module(unmapped_address(), 0, 0);
		delete_module(long_name, 200, 0);
		delete_module(not_utf8, sizeof(not_utf8) - 1, 0);
		finit_module(-1, NULL, 4);
		init_module(NULL, 0, NULL);
	} else if (!strcmp(scenario, "thread")) {
		pthread_t t;

		pthread_create(&t, NULL, second_thread, NULL);
		pthread_join(t, NULL);
	} else if (!strcmp(scenario, "uid") && argc == 3) {
		unsigned int id = strtoul(argv[2], NULL, 10);

		if (setresgid(id, id, id) || setresuid(id, id, id)) {
			perror("dropping privileges");
			return 1;
		}
		delete_module("mt_unprivileged", 15, 0);
	} else if (!strcmp(scenario, "kexec")) {
		return kexec_scenario(argc, argv);
	} else if (!strncmp(scenario, "load-", 5)) {
		return load_scenario(argc, argv);
	} else if (!strcmp(scenario, "int80")) {
		return int80_scenario(argc, argv);
	} else if (!strcmp(scenario, "burst") && argc == 3) {
		long n = strtol(argv[2], NULL, 10), failures = 0;
		int last_errno = 0; /* what the kernel answered: ENOSYS without modules, ENOENT with */
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long i = 0; i < n; i++)
			if (syscall(SYS_delete_module, "mt_burst", 0) < 0) {
				failures++;
				last_errno = errno;
			}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("{\"call\":\"burst\",\"pid\":%d,\"calls\":%ld,\"failures\":%ld,\"errno\":%d,\"seconds\":%.6f}\n", getpid(), n,
		       failures, last_errno, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	} else if (!strcmp(scenario, "flood") && argc == 4) {
		unsigned int id = strtoul(argv[2], NULL, 10);
		double seconds = strtod(argv[3], NULL), elapsed = 0;
		struct timespec t0, t1;
		long n = 0;

		if (setresgid(id, id, id) || setresuid(id, id, id)) {
			perror("dropping privileges");
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		signal(SIGTERM, on_sigterm);
		while (elapsed < seconds && !stop) {
			for (int i = 0; i < 1000; i++, n++)
				syscall(SYS_delete_module, "mt_flood", 0);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		}
		printf("{\"call\":\"flood\",\"pid\":%d,\"calls\":%ld,\"seconds\":%.3f}\n", getpid(), n, elapsed);
	} else if (!strcmp(scenario, "hostile") && argc == 7) {
		unsigned int id = strtoul(argv[2], NULL, 10);
		long n = strtol(argv[3], NULL, 10), calls = 0, failures = 0;
		static char image[64] = "\x7f" "ELF not really a module";
		int fd;

		prctl(PR_SET_NAME, argv[4]);
		if (setresgid(id, id, id) || setresuid(id, id, id)) {
			perror("dropping privileges");
			return 1;
		}
		fd = open(argv[6], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(argv[6]);
			return 1;
		}
		for (long i = 0; i < n; i++) {
			long ret[] = {
				syscall(SYS_delete_module, "lkrg", 0),
				syscall(SYS_delete_module, argv[5], 0),
				syscall(SYS_init_module, image, sizeof(image), argv[5]),
				syscall(SYS_finit_module, fd, argv[5], 0),
			};
			for (int k = 0; k < 4; k++, calls++)
				failures += ret[k] < 0;
		}
		printf("{\"call\":\"hostile\",\"pid\":%d,\"uid\":%u,\"calls\":%ld,\"failures\":%ld}\n", getpid(), id, calls, failures);
	} else if (!strcmp(scenario, "skip-ring") && argc == 3) {
		printf("{\"call\":\"skip-ring\",\"pid\":%d,\"skipped\":%ld}\n", getpid(), skip_ring(strtoul(argv[2], NULL, 10)));
	} else if (!strcmp(scenario, "getpgrp") && argc == 2) {
		printf("{\"call\":\"getpgrp\",\"pid\":%d,\"ret\":%ld,\"pgid\":%d}\n", getpid(), syscall(SYS_getpgrp), getpgid(0));
	} else if (!strcmp(scenario, "context")) {
		context();
	} else if (!strcmp(scenario, "getppid") && argc == 3) {
		long n = strtol(argv[2], NULL, 10);
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("{\"call\":\"getppid\",\"calls\":%ld,\"ns_per_call\":%.1f}\n", n,
		       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n);
	} else if (!strcmp(scenario, "image") && argc == 3) {
		size_t len;
		char *image = slurp(argv[2], &len);

		if (!image)
			return 1;
		init_module(image, len, "");
	} else if (!strcmp(scenario, "memfd") && argc == 3) {
		/* A fileless load through finit_module: the image in a memfd. */
		size_t len;
		char *image = slurp(argv[2], &len);
		int fd = image ? memfd_create("payload", MFD_CLOEXEC) : -1;

		if (fd < 0 || write(fd, image, len) != (ssize_t)len) {
			perror("memfd");
			return 1;
		}
		finit_module(fd, "", 0);
	} else if (!strcmp(scenario, "race") && argc == 4 && strlen(argv[2]) < 8 && strlen(argv[3]) < 8) {
		/* delete_module(NAME) until it succeeds, while a second thread flips
		 * the name to OTHER and back: the kernel acts on whichever it copied,
		 * and a tracer reading the name at another moment may see the other. */
		pthread_t t;
		long ret = -1, tries = 0;

		strncpy((char *)&race_words[0], argv[2], 7);
		strncpy((char *)&race_words[1], argv[3], 7);
		race_name.w = race_words[0];
		pin_to(0);
		pthread_create(&t, NULL, flip_name, NULL);
		/* Only once the flipper runs (on the other CPU) is there a race. */
		while (flips < 100000)
			;
		while (ret != 0 && tries < 1000000) {
			ret = syscall(SYS_delete_module, (const char *)race_name.s, O_NONBLOCK);
			tries++;
		}
		stop = 1;
		pthread_join(t, NULL);
		printf("{\"call\":\"race\",\"pid\":%d,\"tries\":%ld,\"ret\":%ld}\n", getpid(), tries, ret);
	} else if (!strcmp(scenario, "autoload") && (argc == 3 || argc == 4)) {
		/* As UID, DCCP sockets: the kernel asks modprobe for
		 * net-pf-2-proto-33-type-6 whoever the caller (CVE-2017-6074's way in). */
		unsigned int id = strtoul(argv[2], NULL, 10);
		long n = argc == 4 ? strtol(argv[3], NULL, 10) : 1;
		int fd = -1;

		if (setresgid(id, id, id) || setresuid(id, id, id)) {
			perror("dropping privileges");
			return 1;
		}
		for (long i = 0; i < n; i++) {
			fd = socket(AF_INET, SOCK_DCCP, IPPROTO_DCCP);
			if (fd >= 0)
				close(fd);
		}
		printf("{\"call\":\"socket\",\"pid\":%d,\"uid\":%u,\"sockets\":%ld,\"ret\":%d}\n", getpid(), id, n, fd < 0 ? -errno : 0);
	} else if (!strcmp(scenario, "time") && argc >= 3) {
		struct timespec t0, t1;
		int status = 0;
		pid_t child;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		child = fork();
		if (child == 0) {
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		waitpid(child, &status, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("{\"call\":\"time\",\"status\":%d,\"seconds\":%.6f}\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128,
		       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	} else {
		fprintf(stderr, "usage: trigger basic FILE | edge | thread | uid UID | burst N | getppid N | flood UID SECONDS | image FILE | memfd FILE | hostile UID N COMM NAME FILE | autoload UID [N] | skip-ring ID | getpgrp | race NAME OTHER | time CMD... | context | int80 load FILE|unload NAME|noise N | kexec file FILE CMDLINE|file-unload|unload|unload32\n");
		return 2;
	}
	return 0;
}
