/* The one definition of what crosses from the kernel to user space.
 *
 * Every record in the ring buffer is one `struct mt_record`. The decoder's
 * offsets and enum values are generated from this object's BTF by the build
 * (decoder/gen-layout.ts); tests/unit/layout.test.ts fails when they drift.
 * Fixed-width types and explicit padding only, so the layout is the same for
 * the BPF target, x86_64 user space and WebAssembly.
 */
#ifndef MODTRACE_EVENTS_H
#define MODTRACE_EVENTS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Bumped whenever the record layout changes; the decoder refuses others. */
#define MT_LAYOUT_VERSION 4

#define MT_COMM_LEN 16
/* Bytes kept of each string, NUL included. Longer strings are cut and marked
 * MT_STR_TRUNCATED: for paths the tail (the file name) is kept, for strings
 * from user memory the head. */
#define MT_STR_LEN 256
/* The string bytes of a record stay below this offset from the end of its
 * fixed part (a power of two: the BPF side masks its write cursor with it). */
#define MT_STR_SPACE 4096
/* Ancestors a record holds at most, the parent first (--ancestors lowers it). */
#define MT_ANCESTORS 8

/* A module image travels to user space in chunks of this many bytes (the
 * last one shorter), each a struct mt_image_chunk in the image ring. */
#define MT_CHUNK_BYTES 32768

/* enum mt_event (the event kinds) and the syscall numbers, from the event
 * catalogue (catalogue/events.ts). */
#include "generated/catalogue.h"

/* Which hook produced a record: the attach mode. */
enum mt_hook {
	MT_HOOK_RAW_SYSCALLS = 1,
	MT_HOOK_KPROBE = 2,
	MT_HOOK_FENTRY = 3,
	MT_HOOK_TRACEPOINT = 4,
	MT_HOOK_SCAN = 5,       /* no BPF program: user space's scan of the kernel's lists of hooks (scan events) */
};

/* The string slots of a record. */
enum mt_str_slot {
	MT_SLOT_EXE = 0,        /* executable of the calling process */
	MT_SLOT_ARG = 1,        /* delete_module name, init/finit_module param_values, module_request name */
	MT_SLOT_FILE = 2,       /* path of finit_module's fd (also on the module_load it caused) */
	MT_SLOT_MODULE = 3,     /* the module's name as the kernel has it */
	MT_SLOT_VERSION = 4,    /* MODULE_VERSION() */
	MT_SLOT_SRCVERSION = 5, /* checksum of the module's source */
	MT_SLOT_CGROUP = 6,     /* the caller's cgroup v2 path, from the hierarchy's root */
	MT_SLOT_ANCESTOR_EXE = 7, /* executable of ancestor 0 (the parent); ancestor i's is slot 7 + i */
	MT_SLOT_COUNT = 15,
};

/* What a string slot holds. */
enum mt_str_state {
	MT_STR_ABSENT = 0,    /* the event has no such string */
	MT_STR_OK = 1,
	MT_STR_TRUNCATED = 2, /* longer than MT_STR_LEN - 1 bytes */
	MT_STR_FAULT = 3,     /* NULL or unreadable pointer, or no such fd */
};

/* struct mt_record.flags */
enum mt_record_flag {
	MT_FLAG_SIG_OK_KNOWN = 1, /* the kernel has module signatures: sig_ok is meaningful */
	MT_FLAG_SIG_OK = 2,
	MT_FLAG_IN_SYSCALL = 4,   /* a kernel-side event inside a traced module syscall: call_id is set */
	MT_FLAG_COMPAT = 8,       /* a syscall made through the 32-bit entry (int 0x80, a 32-bit process) */
	/* finit_module's file (file_dev, file_ino; the path slot is the fd's at the call): */
	MT_FLAG_FILE_UNLINKED = 16,  /* no name left: deleted, or an O_TMPFILE never linked */
	MT_FLAG_FILE_OTHER_MNT = 32, /* on a mount outside the host's mount namespace, or a detached one */
	MT_FLAG_FILE_SWAPPED = 64,   /* the fd named another file at the call than the kernel read:
	                              * dev and ino are the file the kernel read, the path is not */
	MT_FLAG_NO_LOAD_CALL = 128,  /* module_load on a thread in no init_module or finit_module call */
	MT_FLAG_CODE_RANGE = 256,    /* module_load: args[0] and args[1] hold where its code lies */
	MT_FLAG_NET_NS = 512,        /* net_ns is filled (a rebuilt record from an older log's has none) */
};

/* What became of the module image a load handed the kernel
 * (struct mt_record.image_state; init_module, finit_module, module_load),
 * or of the file of a program the kernel ran (call_usermodehelper). */
enum mt_image_state {
	MT_IMAGE_NONE = 0,      /* not a load, or the call failed before the kernel had an image */
	MT_IMAGE_NO_HOOK = 1,   /* nothing hooked the image: the kernel offers no hook, or --no-hash */
	MT_IMAGE_SENT = 2,      /* all image_size bytes went into the image ring, under call_id */
	MT_IMAGE_RING_FULL = 3, /* the image ring filled after image_sent bytes: no hash */
	/* Set by user space, which fills sha256 before decoding: */
	MT_IMAGE_HASHED = 4,    /* sha256 holds the digest of the image_size bytes */
	MT_IMAGE_LOST = 5,      /* sent, but user space did not receive every chunk: no hash */
	/* A program the kernel ran: user space hashes the file (file_dev, file_ino). */
	MT_IMAGE_ON_DISK = 6,
	MT_IMAGE_UNREAD = 7,    /* user space could not read that file as the kernel ran it */
};

/* struct mt_record.context: facts about the caller beside its ids. */
enum mt_context_flag {
	MT_CONTEXT_INIT_USER_NS = 1,  /* its credentials belong to the initial user namespace */
	MT_CONTEXT_INIT_PID_NS = 2,   /* it lives in the initial pid namespace */
	MT_CONTEXT_INIT_MNT_NS = 4,   /* its mount namespace is the host init's (pid 1's) */
	MT_CONTEXT_ANCESTRY_CUT = 8,  /* more ancestors were above the last one recorded */
	MT_CONTEXT_ABSENT = 16,       /* never from the kernel: a record rebuilt from a log written
	                               * before layout 4, which had no such context */
};

/* One ancestor of the caller, read at the call. */
struct mt_ancestor {
	__u64 start_ns;  /* task->start_boottime: the boot clock, like boot_ns */
	__u32 host_pid;  /* tgid in the initial pid namespace */
	__u32 pad;
	char comm[MT_COMM_LEN];
};

/* Per-CPU counters kept by the BPF side, summed by the loader. */
enum mt_counter {
	MT_COUNTER_LOST_RINGBUF = 0,  /* bpf_ringbuf_output failed: the bulk ring was full */
	MT_COUNTER_LOST_INFLIGHT = 1, /* no slot to hold a call between enter and exit */
	MT_COUNTER_FILTERED = 2,      /* dropped by --pid/--comm/--uid */
	MT_COUNTER_LOST_PRIORITY = 3, /* the priority ring was full */
	MT_COUNTER_CALLS_UNTRACKED = 4, /* a call the full `calls` map could not hold: its
	                                 * kernel-side events lost their callId, its image */
	MT_COUNTER_COUNT = 5,
};

/* Which filters are active (struct mt_config.filters). */
enum mt_filter {
	MT_FILTER_PID = 1,
	MT_FILTER_UID = 2,
	MT_FILTER_COMM = 4,
};

/* Kernel-side switches (struct mt_attached.options). */
enum mt_option {
	MT_OPTION_IMAGES = 1, /* the image hooks are attached: stream module images */
};

/* Kernel-side settings known before load: a read-only global (bpf/config.h)
 * that the loader fills before the object is loaded, so the verifier reads
 * them as constants and drops the code of what is not asked for (the filters
 * of a capture without --pid, --uid or --comm). The sets the filters look in
 * are maps, filled after load. */
struct mt_config {
	__u32 filters;    /* enum mt_filter bits */
	__u32 ancestors;  /* how many ancestors to record, at most MT_ANCESTORS */
	__u32 self_tgid;  /* modtrace's own process (host tgid; 0: unknown): its heartbeat
	                   * calls pass every filter and go to the priority ring */
	__u32 pad;
};

/* Kernel-side switches known only once the programs are attached: a writable
 * global (bpf/config.h) written after attach. Zero until then, so nothing is
 * sent from a half-attached capture. */
struct mt_attached {
	__u32 event_mask; /* bit (1 << enum mt_event) per attached event */
	__u32 options;    /* enum mt_option bits */
};

/* A record: this fixed part, then the strings, packed (no NULs between them),
 * then zero to seven bytes of padding to the next multiple of eight. */
struct mt_record {
	__u32 size;          /* bytes of the whole record, padding included: where the next one starts */
	__u16 version;       /* MT_LAYOUT_VERSION */
	__u8 event;          /* enum mt_event */
	__u8 hook;           /* enum mt_hook */
	__u64 boot_ns;       /* bpf_ktime_get_boot_ns() when the event was read: a syscall's exit,
	                      * or its entry when the caller's memory is read there */
	__u64 cgroup_id;
	__s64 ret;           /* syscall return value: 0 or -errno */
	__u64 args[3];       /* the syscall's integer arguments, as passed (module_request: wait) */
	__u64 call_id;       /* shared by a module syscall and the kernel-side events it caused:
	                      * the boot_ns of the first of them */
	__u64 taints;        /* struct module.taints: bits are TAINT_* of include/linux/panic.h */
	__u32 host_pid;      /* tgid in the initial pid namespace */
	__u32 host_tid;
	__u32 host_ppid;
	__u32 pid;           /* the same, in the task's own pid namespace */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 mnt_ns;        /* namespace inode numbers */
	__u32 pid_ns;
	__u32 file_dev;      /* finit_module fd's file: kernel dev_t (major << 20 | minor) */
	__u32 flags;         /* enum mt_record_flag bits */
	__u64 file_ino;
	__u64 image_size;    /* load events: bytes of the image the kernel was handed */
	__u64 image_sent;    /* of those, how many went into the image ring */
	__u8 sha256[32];     /* filled by user space when image_state is MT_IMAGE_HASHED */
	__u16 str_off[MT_SLOT_COUNT];  /* where each string starts, from the record's start */
	__u16 str_len[MT_SLOT_COUNT];  /* its bytes (below MT_STR_LEN), NUL excluded */
	__u8 str_state[MT_SLOT_COUNT]; /* enum mt_str_state; ABSENT and FAULT strings have no bytes */
	__u8 image_state;    /* enum mt_image_state */
	__u32 net_ns;        /* network namespace inode number, with MT_FLAG_NET_NS */
	char comm[MT_COMM_LEN];
	/* Who and where (layout 4): identity, capabilities, ancestry. The cgroup
	 * path and the ancestors' executables are string slots. */
	__u64 cap_effective; /* cred->cap_effective: bit n is capability n (CAP_SYS_MODULE = 16) */
	__u32 euid;          /* effective uid, like uid in the initial user namespace */
	__u32 loginuid;      /* audit login uid (4294967295: never set, or no CONFIG_AUDIT) */
	__u32 sessionid;     /* audit session id (4294967295 likewise) */
	__u32 user_ns;       /* inode number of the credentials' user namespace */
	__u32 context;       /* enum mt_context_flag bits */
	__u8 ancestor_count; /* entries of ancestors[] that hold one */
	__u8 pad2[3];
	struct mt_ancestor ancestors[MT_ANCESTORS];
};

/* The largest record the kernel side sends: every slot full. */
#define MT_RECORD_MAX 4392

/* One chunk of a module image (the image ring). */
struct mt_image_chunk {
	__u32 size;     /* sizeof(struct mt_image_chunk): every chunk takes that room, the last one too */
	__u16 version;  /* MT_LAYOUT_VERSION */
	__u16 pad;
	__u32 len;      /* bytes of data */
	__u32 pad2;
	__u64 image_id; /* the call_id of the load that handed the kernel the image */
	__u64 offset;   /* where data starts in the image */
	__u64 total;    /* the image's size */
	__u8 data[MT_CHUNK_BYTES];
};

_Static_assert(sizeof(struct mt_config) == 16, "mt_config layout");
_Static_assert(sizeof(struct mt_attached) == 8, "mt_attached layout");
_Static_assert(sizeof(struct mt_ancestor) == 32, "mt_ancestor layout");
_Static_assert(sizeof(struct mt_record) == 560, "mt_record layout");
_Static_assert(MT_SLOT_COUNT == MT_SLOT_ANCESTOR_EXE + MT_ANCESTORS, "one executable slot per ancestor");
_Static_assert(sizeof(struct mt_image_chunk) == 40 + MT_CHUNK_BYTES, "mt_image_chunk layout");
_Static_assert(MT_SLOT_COUNT * (MT_STR_LEN - 1) <= MT_STR_SPACE, "every slot fits below MT_STR_SPACE");
_Static_assert(MT_RECORD_MAX == ((sizeof(struct mt_record) + MT_SLOT_COUNT * (MT_STR_LEN - 1) + 7) & ~7),
	       "MT_RECORD_MAX");
_Static_assert(sizeof(struct mt_record) % 8 == 0, "records stay 8-byte aligned");

#endif
