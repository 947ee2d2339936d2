// The one table of an event's output fields, beside the event catalogue
// (events.ts, which holds each event's arguments): every key the decoder
// writes, its type, the row column it lands in, the row schema version that
// added that column, and what it means. The build generates from it the
// decoder's keys (decoder/assembly/generated/keys.ts) and the typed event
// every TypeScript reader of a log uses (record/generated/event.ts); the row
// schema (rows/schema.ts) takes its event columns from it.
//
// In row-column order: a column is only ever appended (rows/schema.ts says
// why), so a field added later goes at the end with the new version, and an
// argument's column is an `argument` entry where its version put it.
// Plain data, like the catalogue: the generators read it.
/** Value domains. bool/int/uint are exact (64-bit ones never go through a
 * double); hex is a byte string (bytes in CBOR, lowercase hex text in JSON
 * and rows). */
export type ColumnType = "bool" | "int32" | "uint32" | "int64" | "uint64" | "string" | "hex";

/** One key of an event map. A scalar is one column (its key); a map's
 * entries are columns key_entry; a list is one column of JSON text. */
export interface Field {
  key: string;
  /** scalar: any of an integer, a string, a bool or null (an argument's value). */
  type: ColumnType | "map" | "list" | "scalar";
  /** The row schema version that added its column(s). */
  since: number;
  about: string;
  /** Every event has it, and its column is never null. */
  required?: true;
  /** A map's entries, or a list item's. */
  entries?: Field[];
  /** Not a column: the arguments list (its entries are the `argument` columns). */
  noColumn?: true;
  /** Read straight from the kernel's record: struct mt_record's `field` (as
   * wide as the type: 4 bytes for a 32-bit integer, 8 for a 64-bit one, 1
   * for a bool), there when the BPF side set MT_FLAG_<presentWith>. Such a
   * field needs no code beside this table and the BPF that fills it: the
   * decoder writes it (after the event's other fields, before argsNum, in
   * this table's order), and both rebuilds of a record from a log read it
   * back. */
  record?: { field: string; presentWith: string };
}

/** An argument's column (arguments are named by the catalogue; several
 * events share one column where they share a name). A string argument's
 * value comes with the entries the decoder adds when it must (truncated,
 * error, raw): four columns. */
export interface ArgumentColumn {
  argument: string;
  type: ColumnType;
  since: number;
  about: string;
  /** Its `decoded` entry (flags and dev by name): a column of its own. */
  decoded?: string;
}

export type FieldEntry = Field | ArgumentColumn;

export const isArgument = (e: FieldEntry): e is ArgumentColumn => "argument" in e;

const v = (since: number) => (key: string, type: Field["type"], about: string, rest: Partial<Field> = {}): Field => ({ key, type, since, about, ...rest });
const v1 = v(1);
const v2 = v(2);
const v3 = v(3);
const v9 = v(9);
const arg =
  (since: number) =>
  (argument: string, type: ColumnType, about: string, decoded?: string): ArgumentColumn => ({ argument, type, since, about, ...(decoded && { decoded }) });
const a1 = arg(1);
const a4 = arg(4);
const a6 = arg(6);
const a7 = arg(7);
const a8 = arg(8);
const REQUIRED = { required: true } as const;

/** The entries beside a string that may be cut, unreadable or not UTF-8. */
export const STRING_EXTRAS = ["truncated", "error", "raw"] as const;

/** A path held as a map: {path, truncated, error, raw}. */
function pathMap(key: string, since: number, about: string, abouts: { path: string; truncated: string; error: string; raw: string }): Field {
  const f = v(since);
  return f(key, "map", about, {
    entries: [f("path", "string", abouts.path), f("truncated", "bool", abouts.truncated), f("error", "string", abouts.error), f("raw", "hex", abouts.raw)],
  });
}

/** The entries an argument's map can have after its name, type and value. */
export const ARGUMENT_ENTRIES: Field[] = [
  v1("name", "string", "the argument's name (the catalogue's, Tracee's)", REQUIRED),
  v1("type", "string", "its C type, as Tracee writes it", REQUIRED),
  v1("value", "scalar", "its value: an integer, a string, a bool, or null", REQUIRED),
  v1("decoded", "string", "flags and dev numbers by name"),
  v1("truncated", "bool", "a string longer than a record holds, cut"),
  v1("error", "string", "why the value is null although the event has it"),
  v1("raw", "hex", "a string's exact bytes when they are not valid UTF-8"),
];

/** An ancestor of the caller, the parent first (the ancestors list's items). */
const ANCESTOR: Field[] = [
  v2("hostProcessId", "uint32", "its pid as the host sees it"),
  v2("processName", "string", "its comm"),
  v2("processNameRaw", "hex", "its comm's exact bytes when they are not valid UTF-8"),
  v2("startTime", "int64", "when it started, ns since the epoch"),
  pathMap("executable", 2, "its executable", { path: "its executable's path", truncated: "cut", error: "why path is null", raw: "exact bytes" }),
];

export const FIELDS: FieldEntry[] = [
  // Every event: Tracee's context fields.
  v1("timestamp", "int64", "when the event happened, ns since the epoch", REQUIRED),
  v1("processId", "uint32", "pid in the process's own pid namespace", REQUIRED),
  v1("threadId", "uint32", "tid in the process's own pid namespace", REQUIRED),
  v1("parentProcessId", "uint32", "parent pid in the process's own pid namespace", REQUIRED),
  v1("hostProcessId", "uint32", "pid as the host sees it", REQUIRED),
  v1("hostThreadId", "uint32", "tid as the host sees it", REQUIRED),
  v1("hostParentProcessId", "uint32", "parent pid as the host sees it", REQUIRED),
  v1("userId", "uint32", "real uid", REQUIRED),
  v1("groupId", "uint32", "real gid", REQUIRED),
  v1("processName", "string", "comm, the kernel's 15-byte command name", REQUIRED),
  v1("processNameRaw", "hex", "comm's exact bytes when they are not valid UTF-8"),
  pathMap("executable", 1, "the process's executable", {
    path: "path of the process's executable",
    truncated: "true when the executable path was cut",
    error: "why executable_path is null",
    raw: "the executable path's exact bytes when they are not valid UTF-8",
  }),
  v1("cgroupId", "uint64", "cgroup v2 id", REQUIRED),
  v1("mountNamespace", "uint32", "mount namespace inode number", REQUIRED),
  v1("pidNamespace", "uint32", "pid namespace inode number", REQUIRED),
  v1("eventId", "uint32", "Tracee's event id (syscall number for syscalls; 2000 + n for kernel events)", REQUIRED),
  v1(
    "eventName",
    "string",
    "init_module, finit_module, delete_module, module_load, module_free, do_init_module, module_request, kexec_load, kexec_file_load, call_usermodehelper; or a scan event: ftrace_hook, kprobe_hook, bpf_program",
    REQUIRED,
  ),
  v1("syscall", "string", "the syscall's name for syscall events, empty for kernel events", REQUIRED),
  v1("hook", "string", "how it was captured: fentry, kprobe, raw_syscalls or tracepoint; scan for a scan event (no process: its identity fields are 0)", REQUIRED),
  v1("returnValue", "int64", "what the syscall returned (negative errno on failure); do_init_module: what the module's init returned", REQUIRED),
  v1("returnError", "string", "the errno's name when returnValue is negative (E<n> for one without a name)"),
  v1("callId", "uint64", "ties a syscall to the kernel events it caused"),
  v1("moduleName", "string", "syscall events: the kernel's name for the module the call loaded or unloaded"),
  v1("nameMismatch", "bool", "delete_module: true when the kernel unloaded another name than the caller's memory held"),
  v1("argsNum", "uint32", "how many arguments the event has", REQUIRED),
  v1("args", "list", "the event's arguments, each {name, type, value} and the entries the decoder adds", { required: true, noColumn: true, entries: ARGUMENT_ENTRIES }),
  // Arguments, by name; an argument several events share is one column.
  a1("module_image", "uint64", "init_module: address of the image in the caller's memory"),
  a1("len", "uint64", "init_module: length of the image in bytes"),
  a1("param_values", "string", "init_module, finit_module: the module parameters"),
  a1("fd", "int32", "finit_module: the file descriptor of the module file"),
  a1("flags", "uint32", "finit_module: MODULE_INIT_* flags; delete_module: O_NONBLOCK, O_TRUNC; kexec_load: KEXEC_* (the architecture in the high 16 bits); kexec_file_load: KEXEC_FILE_*", "flags by name, |-separated (0 when none)"),
  a1("pathname", "string", "finit_module, module_load: path of the module file the fd refers to; kexec_file_load: of the kernel file"),
  a1("dev", "uint32", "device of that file (kernel dev_t)", "dev as major:minor"),
  a1("inode", "uint64", "inode of that file"),
  a1("name", "string", "delete_module: the name the caller passed; module_load, module_free, do_init_module: the module's name; module_request: what the kernel asked modprobe for"),
  a1("version", "string", "module_load, do_init_module: the module's MODULE_VERSION"),
  a1("src_version", "string", "module_load, do_init_module: the module's srcversion (a hash of its sources)"),
  a1("taints", "uint64", "module_load: the module's taint flags", "taints by the kernel's names (UNSIGNED_MODULE, OOT_MODULE, …)"),
  a1("sig_ok", "bool", "module_load: the module's signature checked out (null: the kernel does not check signatures)"),
  a1("wait", "bool", "module_request: the caller waits for modprobe"),
  v1("sha256", "hex", "init_module, finit_module, module_load: sha256 of the exact image the kernel was handed; kexec_file_load: of the kernel it read (null: see sha256Error)"),
  // Who and where (schema 2): the caller's context, read in the kernel at the
  // call; null in rows from logs written before modtrace recorded it.
  v2("userNamespace", "uint32", "inode number of the caller's user namespace (its credentials')"),
  v2("initialNamespaces", "map", "which of the caller's namespaces are the host's", {
    entries: [
      v2("user", "bool", "the caller's user namespace is the initial one: its capabilities are over the host"),
      v2("pid", "bool", "the caller lives in the initial pid namespace"),
      v2("mount", "bool", "the caller's mount namespace is the host init's (pid 1's)"),
    ],
  }),
  v2("effectiveUserId", "uint32", "effective uid (as the initial user namespace sees it)"),
  v2("loginUserId", "uint32", "audit login uid, which survives su and sudo (4294967295: never set)"),
  v2("sessionId", "uint32", "audit session id (4294967295: never set)"),
  v2("capabilities", "map", "the caller's capabilities", {
    entries: [
      v2("effective", "uint64", "the caller's effective capability set, bit n = capability n"),
      v2("sysModule", "bool", "CAP_SYS_MODULE is in the effective set (over the host only when initialNamespaces_user)"),
    ],
  }),
  pathMap("cgroup", 2, "the caller's cgroup v2", {
    path: "the caller's cgroup v2 path from the hierarchy's root",
    truncated: "true when the cgroup path was cut (its head: the leaf is kept)",
    error: "why cgroup_path is null",
    raw: "the cgroup path's exact bytes when they are not valid UTF-8",
  }),
  v2("container", "map", "the container the cgroup path names", {
    entries: [
      v2("id", "string", "the container the cgroup path names: its id (a systemd-nspawn machine's name)"),
      v2("runtime", "string", "docker, containerd, crio, podman, systemd-nspawn, or cri (a Kubernetes container whose path names no runtime)"),
    ],
  }),
  v2("kubernetes", "map", "the Kubernetes pod the cgroup path names", {
    entries: [v2("podUID", "string", "the Kubernetes pod uid the cgroup path names")],
  }),
  v2("inContainer", "bool", "a recognised container's cgroup, or its own pid and mount namespaces"),
  v2("ancestors", "list", "the caller's ancestors, the parent first, as a JSON array of {hostProcessId, processName, startTime, executable: {path}}", { entries: ANCESTOR }),
  v2("ancestryCut", "bool", "true when more ancestors were above the last one recorded"),
  // Module identity (schema 2).
  v2("size", "uint64", "init_module, finit_module, module_load: bytes of that image"),
  v2("sha256Error", "string", "why a load event has no sha256 (no image hook; the image ring was full after N of SIZE bytes; chunks lost)"),
  // Every way in (schema 3).
  v3("compat", "bool", "true when the syscall came through the 32-bit entry (int 0x80, or a 32-bit process): i386 numbers, __ia32_sys_*; null for 64-bit calls"),
  v3("fileUnlinked", "bool", "finit_module: true when the module's file had no name left (deleted, or an O_TMPFILE)"),
  v3(
    "fileOtherMount",
    "bool",
    "finit_module: true when the module's file lay on a mount outside the host's mount namespace (a container's, a private or detached mount)",
  ),
  v3("noLoadCall", "bool", "module_load: true when the loading thread was in no init_module or finit_module call (a way in modtrace does not know)"),
  v3("fileSwapped", "bool", "finit_module: true when the fd named another file at the call than the kernel read: dev and inode are the file read, pathname is not"),
  // kexec, the other door for kernel code (schema 4). Its flags, file
  // (pathname, dev, inode, fileSwapped, …) and sha256 use the columns above.
  a4("entry", "uint64", "kexec_load: the staged kernel's entry point"),
  a4("nr_segments", "uint64", "kexec_load: how many segments the caller handed over (0: unstage)"),
  a4("kernel_fd", "int32", "kexec_file_load: the file descriptor of the kernel to stage"),
  a4("initrd_fd", "int32", "kexec_file_load: the file descriptor of its initramfs (-1 with KEXEC_FILE_NO_INITRAMFS)"),
  a4("cmdline", "string", "kexec_file_load: the staged kernel's command line"),
  // Where a loaded module's code lies (schema 6).
  a6("code_base", "uint64", "module_load: address of the module's code (the core's text), read in the kernel"),
  a6("code_size", "uint64", "module_load: bytes of that code"),
  // Programs the kernel runs (schema 7): call_usermodehelper uses pathname
  // (the path the kernel was given), dev and inode (the file that runs: a
  // script's interpreter), sha256 and size (of the program, or the script).
  a7("argv", "string", "call_usermodehelper: the program's command line, its arguments joined by spaces"),
  // The kernel's hooks that came and went, as modtrace's scans found them (schema 8).
  a8("change", "string", "ftrace_hook, kprobe_hook, bpf_program: added (found at this scan, not at the one before) or removed"),
  a8("symbol", "string", "ftrace_hook: the kernel function with the callback; kprobe_hook: the probed function+offset"),
  a8("callback", "string", "ftrace_hook: the callback (symbol+offset/size [module]), its bare address where no symbol names it, or why the kernel shows none"),
  a8("callback_owner", "string", "ftrace_hook: the module the callback's symbol names"),
  a8("address", "uint64", "kprobe_hook: the probed address (0 where kptr_restrict hides it)"),
  a8("probe_type", "string", "kprobe_hook: kprobe or kretprobe"),
  a8("probe_flags", "string", "kprobe_hook: the kernel's flags for the probe (FTRACE, DISABLED, OPTIMIZED, GONE), space-separated"),
  a8("prog_id", "uint32", "bpf_program: the program's id"),
  a8("prog_name", "string", "bpf_program: the program's name"),
  a8("prog_type", "string", "bpf_program: its type (kprobe, tracing, lsm, ...)"),
  a8(
    "prog_helpers",
    "string",
    "bpf_program: the helpers it calls that change what the system does (bpf_probe_write_user, bpf_override_return, bpf_send_signal, bpf_send_signal_thread), space-separated",
  ),
  a8("prog_uid", "uint32", "bpf_program: the uid that loaded it"),
  // Fields read straight from the record (schema 9).
  v9("netNamespace", "uint32", "network namespace inode number (as `readlink /proc/PID/ns/net` shows it)", {
    record: { field: "net_ns", presentWith: "NET_NS" },
  }),
];

/** The top-level fields (not the argument columns), by key. */
export const TOP_FIELDS: Field[] = FIELDS.filter((e): e is Field => !isArgument(e));

export type RecordField = Field & { record: NonNullable<Field["record"]>; type: RecordFieldType };
export type RecordFieldType = "bool" | "int32" | "uint32" | "int64" | "uint64";

/** The fields read straight from the record, in the table's order. */
export const RECORD_FIELDS = TOP_FIELDS.filter((f): f is RecordField => f.record !== undefined);

/** A record field's bytes in struct mt_record. */
export const RECORD_WIDTH: Record<RecordFieldType, number> = { bool: 1, int32: 4, uint32: 4, int64: 8, uint64: 8 };
