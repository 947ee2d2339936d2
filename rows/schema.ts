// The row schema: one flat, typed column per field modtrace knows, written
// once here. `modtrace schema` prints it as JSON and as each engine's DDL,
// `read -o rows` and `-o parquet` write it. Append-only: a new field is a new
// column at the END of its list with `since` = the new SCHEMA_VERSION; a
// column is never renamed, retyped or removed, so a table made from an older
// version keeps loading newer rows (engines skip the columns they lack) and a
// newer table loads older rows (the missing columns are null).
//
// How an event map becomes columns (rows/flatten.ts), one rule for every
// field, present and future:
//   top-level scalar            key                 processName, callId
//   top-level map               key_sub             executable_path
//   argument                    its name            pathname, flags
//   argument's other entries    name_entry          flags_decoded, name_raw
//   top-level list              key, as JSON text   ancestors
// so a field added to events later lands in the column of that name once the
// column is appended here, and until then is reported (once) and left out.

export const SCHEMA_VERSION = 8;

/** Value domains. bool/int/uint are exact (64-bit ones never go through a
 * double); hex is a byte string written as lowercase hex text. Future list
 * fields (a finding's evidence callIds, ancestry) add list types here. */
export type ColumnType = "bool" | "int32" | "uint32" | "int64" | "uint64" | "string" | "hex";

export interface Column {
  name: string;
  type: ColumnType;
  /** Never null: the engines may key and partition on it. */
  required?: true;
  /** The SCHEMA_VERSION that added it. */
  since: number;
  about: string;
}

const v1 = (name: string, type: ColumnType, about: string, required?: true): Column => ({ name, type, since: 1, about, ...(required && { required }) });
const v2 = (name: string, type: ColumnType, about: string): Column => ({ name, type, since: 2, about });
const v3 = (name: string, type: ColumnType, about: string): Column => ({ name, type, since: 3, about });
const v4 = (name: string, type: ColumnType, about: string): Column => ({ name, type, since: 4, about });
const v5 = (name: string, type: ColumnType, about: string, required?: true): Column => ({ name, type, since: 5, about, ...(required && { required }) });
const v6 = (name: string, type: ColumnType, about: string): Column => ({ name, type, since: 6, about });
const v7 = (name: string, type: ColumnType, about: string): Column => ({ name, type, since: 7, about });
const v8 = (name: string, type: ColumnType, about: string): Column => ({ name, type, since: 8, about });

/** A string argument's value and the entries the decoder adds when it must. */
function stringArg(name: string, about: string, v = v1): Column[] {
  return [
    v(name, "string", `${about} (invalid UTF-8 replaced by U+FFFD; exact bytes in ${name}_raw)`),
    v(`${name}_truncated`, "bool", `true when ${name} was longer than a record holds and was cut`),
    v(`${name}_error`, "string", `why ${name} is null although the event has it ("unreadable": the kernel could not read the caller's memory)`),
    v(`${name}_raw`, "hex", `the exact bytes of ${name} when they are not valid UTF-8`),
  ];
}

/** Columns of the events table (rows, Parquet), in order. */
export const EVENT_COLUMNS: Column[] = [
  v1("schemaVersion", "uint32", "the row schema version that wrote this row", true),
  // From the log's header: which machine, which kernel, which boot.
  v1("host", "string", "host name of the machine that captured (log header; empty if the header was lost)", true),
  v1("kernel", "string", "kernel release of that machine (log header)", true),
  v1("bootTime", "int64", "wall-clock time of that boot, ns since the epoch (log header): timestamp - bootTime is the kernel's boot clock", true),
  // Every event: Tracee's context fields.
  v1("timestamp", "int64", "when the event happened, ns since the epoch", true),
  v1("processId", "uint32", "pid in the process's own pid namespace", true),
  v1("threadId", "uint32", "tid in the process's own pid namespace", true),
  v1("parentProcessId", "uint32", "parent pid in the process's own pid namespace", true),
  v1("hostProcessId", "uint32", "pid as the host sees it", true),
  v1("hostThreadId", "uint32", "tid as the host sees it", true),
  v1("hostParentProcessId", "uint32", "parent pid as the host sees it", true),
  v1("userId", "uint32", "real uid", true),
  v1("groupId", "uint32", "real gid", true),
  v1("processName", "string", "comm, the kernel's 15-byte command name", true),
  v1("processNameRaw", "hex", "comm's exact bytes when they are not valid UTF-8"),
  v1("executable_path", "string", "path of the process's executable"),
  v1("executable_truncated", "bool", "true when the executable path was cut"),
  v1("executable_error", "string", "why executable_path is null"),
  v1("executable_raw", "hex", "the executable path's exact bytes when they are not valid UTF-8"),
  v1("cgroupId", "uint64", "cgroup v2 id", true),
  v1("mountNamespace", "uint32", "mount namespace inode number", true),
  v1("pidNamespace", "uint32", "pid namespace inode number", true),
  v1("eventId", "uint32", "Tracee's event id (syscall number for syscalls; 2000 + n for kernel events)", true),
  v1("eventName", "string", "init_module, finit_module, delete_module, module_load, module_free, do_init_module, module_request, kexec_load, kexec_file_load, call_usermodehelper; or a scan event: ftrace_hook, kprobe_hook, bpf_program", true),
  v1("syscall", "string", "the syscall's name for syscall events, empty for kernel events", true),
  v1("hook", "string", "how it was captured: fentry, kprobe, raw_syscalls or tracepoint; scan for a scan event (no process: its identity fields are 0)", true),
  v1("returnValue", "int64", "what the syscall returned (negative errno on failure); do_init_module: what the module's init returned", true),
  v1("returnError", "string", "the errno's name when returnValue is negative (E<n> for one without a name)"),
  v1("callId", "uint64", "ties a syscall to the kernel events it caused"),
  v1("moduleName", "string", "syscall events: the kernel's name for the module the call loaded or unloaded"),
  v1("nameMismatch", "bool", "delete_module: true when the kernel unloaded another name than the caller's memory held"),
  v1("argsNum", "uint32", "how many arguments the event has", true),
  // Arguments, by name; an argument several events share is one column.
  v1("module_image", "uint64", "init_module: address of the image in the caller's memory"),
  v1("len", "uint64", "init_module: length of the image in bytes"),
  ...stringArg("param_values", "init_module, finit_module: the module parameters"),
  v1("fd", "int32", "finit_module: the file descriptor of the module file"),
  v1("flags", "uint32", "finit_module: MODULE_INIT_* flags; delete_module: O_NONBLOCK, O_TRUNC; kexec_load: KEXEC_* (the architecture in the high 16 bits); kexec_file_load: KEXEC_FILE_*"),
  v1("flags_decoded", "string", "flags by name, |-separated (0 when none)"),
  ...stringArg("pathname", "finit_module, module_load: path of the module file the fd refers to; kexec_file_load: of the kernel file"),
  v1("dev", "uint32", "device of that file (kernel dev_t)"),
  v1("dev_decoded", "string", "dev as major:minor"),
  v1("inode", "uint64", "inode of that file"),
  ...stringArg("name", "delete_module: the name the caller passed; module_load, module_free, do_init_module: the module's name; module_request: what the kernel asked modprobe for"),
  ...stringArg("version", "module_load, do_init_module: the module's MODULE_VERSION"),
  ...stringArg("src_version", "module_load, do_init_module: the module's srcversion (a hash of its sources)"),
  v1("taints", "uint64", "module_load: the module's taint flags"),
  v1("taints_decoded", "string", "taints by the kernel's names (UNSIGNED_MODULE, OOT_MODULE, …)"),
  v1("sig_ok", "bool", "module_load: the module's signature checked out (null: the kernel does not check signatures)"),
  v1("wait", "bool", "module_request: the caller waits for modprobe"),
  v1("sha256", "hex", "init_module, finit_module, module_load: sha256 of the exact image the kernel was handed; kexec_file_load: of the kernel it read (null: see sha256Error)"),
  // Who and where (schema 2): the caller's context, read in the kernel at the
  // call; null in rows from logs written before modtrace recorded it.
  v2("userNamespace", "uint32", "inode number of the caller's user namespace (its credentials')"),
  v2("initialNamespaces_user", "bool", "the caller's user namespace is the initial one: its capabilities are over the host"),
  v2("initialNamespaces_pid", "bool", "the caller lives in the initial pid namespace"),
  v2("initialNamespaces_mount", "bool", "the caller's mount namespace is the host init's (pid 1's)"),
  v2("effectiveUserId", "uint32", "effective uid (as the initial user namespace sees it)"),
  v2("loginUserId", "uint32", "audit login uid, which survives su and sudo (4294967295: never set)"),
  v2("sessionId", "uint32", "audit session id (4294967295: never set)"),
  v2("capabilities_effective", "uint64", "the caller's effective capability set, bit n = capability n"),
  v2("capabilities_sysModule", "bool", "CAP_SYS_MODULE is in the effective set (over the host only when initialNamespaces_user)"),
  v2("cgroup_path", "string", "the caller's cgroup v2 path from the hierarchy's root"),
  v2("cgroup_truncated", "bool", "true when the cgroup path was cut (its head: the leaf is kept)"),
  v2("cgroup_error", "string", "why cgroup_path is null"),
  v2("cgroup_raw", "hex", "the cgroup path's exact bytes when they are not valid UTF-8"),
  v2("container_id", "string", "the container the cgroup path names: its id (a systemd-nspawn machine's name)"),
  v2("container_runtime", "string", "docker, containerd, crio, podman, systemd-nspawn, or cri (a Kubernetes container whose path names no runtime)"),
  v2("kubernetes_podUID", "string", "the Kubernetes pod uid the cgroup path names"),
  v2("inContainer", "bool", "a recognised container's cgroup, or its own pid and mount namespaces"),
  v2("ancestors", "string", "the caller's ancestors, the parent first, as a JSON array of {hostProcessId, processName, startTime, executable: {path}}"),
  v2("ancestryCut", "bool", "true when more ancestors were above the last one recorded"),
  // Module identity (schema 2).
  v2("size", "uint64", "init_module, finit_module, module_load: bytes of that image"),
  v2("sha256Error", "string", "why a load event has no sha256 (no image hook; the image ring was full after N of SIZE bytes; chunks lost)"),
  // Every way in (schema 3).
  v3("compat", "bool", "true when the syscall came through the 32-bit entry (int 0x80, or a 32-bit process): i386 numbers, __ia32_sys_*; null for 64-bit calls"),
  v3("fileUnlinked", "bool", "finit_module: true when the module's file had no name left (deleted, or an O_TMPFILE)"),
  v3("fileOtherMount", "bool", "finit_module: true when the module's file lay on a mount outside the host's mount namespace (a container's, a private or detached mount)"),
  v3("noLoadCall", "bool", "module_load: true when the loading thread was in no init_module or finit_module call (a way in modtrace does not know)"),
  v3("fileSwapped", "bool", "finit_module: true when the fd named another file at the call than the kernel read: dev and inode are the file read, pathname is not"),
  // kexec, the other door for kernel code (schema 4). Its flags, file
  // (pathname, dev, inode, fileSwapped, …) and sha256 use the columns above.
  v4("entry", "uint64", "kexec_load: the staged kernel's entry point"),
  v4("nr_segments", "uint64", "kexec_load: how many segments the caller handed over (0: unstage)"),
  v4("kernel_fd", "int32", "kexec_file_load: the file descriptor of the kernel to stage"),
  v4("initrd_fd", "int32", "kexec_file_load: the file descriptor of its initramfs (-1 with KEXEC_FILE_NO_INITRAMFS)"),
  ...stringArg("cmdline", "kexec_file_load: the staged kernel's command line", v4),
  // Where a loaded module's code lies (schema 6).
  v6("code_base", "uint64", "module_load: address of the module's code (the core's text), read in the kernel"),
  v6("code_size", "uint64", "module_load: bytes of that code"),
  // Programs the kernel runs (schema 7): call_usermodehelper uses pathname
  // (the path the kernel was given), dev and inode (the file that runs: a
  // script's interpreter), sha256 and size (of the program, or the script).
  ...stringArg("argv", "call_usermodehelper: the program's command line, its arguments joined by spaces", v7),
  // The kernel's hooks that came and went, as modtrace's scans found them (schema 8).
  ...stringArg("change", "ftrace_hook, kprobe_hook, bpf_program: added (found at this scan, not at the one before) or removed", v8),
  ...stringArg("symbol", "ftrace_hook: the kernel function with the callback; kprobe_hook: the probed function+offset", v8),
  ...stringArg("callback", "ftrace_hook: the callback (symbol+offset/size [module]), its bare address where no symbol names it, or why the kernel shows none", v8),
  ...stringArg("callback_owner", "ftrace_hook: the module the callback's symbol names", v8),
  v8("address", "uint64", "kprobe_hook: the probed address (0 where kptr_restrict hides it)"),
  ...stringArg("probe_type", "kprobe_hook: kprobe or kretprobe", v8),
  ...stringArg("probe_flags", "kprobe_hook: the kernel's flags for the probe (FTRACE, DISABLED, OPTIMIZED, GONE), space-separated", v8),
  v8("prog_id", "uint32", "bpf_program: the program's id"),
  ...stringArg("prog_name", "bpf_program: the program's name", v8),
  ...stringArg("prog_type", "bpf_program: its type (kprobe, tracing, lsm, ...)", v8),
  ...stringArg("prog_helpers", "bpf_program: the helpers it calls that change what the system does (bpf_probe_write_user, bpf_override_return, bpf_send_signal, bpf_send_signal_thread), space-separated", v8),
  v8("prog_uid", "uint32", "bpf_program: the uid that loaded it"),
];

/** Columns of the captures table: one row per log file, its header and
 * trailer, so what a capture attached and what it lost stay queryable. */
export const CAPTURE_COLUMNS: Column[] = [
  v1("schemaVersion", "uint32", "the row schema version that wrote this row", true),
  v1("file", "string", "the log file's name (without its directory)", true),
  v1("host", "string", "host name of the machine that captured", true),
  v1("kernel", "string", "its kernel release", true),
  v1("bootTime", "int64", "wall-clock time of that boot, ns since the epoch", true),
  v1("start", "int64", "when the capture started, ns since the epoch"),
  v1("part", "uint32", "which file of a rotated set (1 for the first)"),
  v1("modtraceVersion", "string", "modtrace's version"),
  v1("formatVersion", "uint32", "the log format's version"),
  v1("events", "string", "the events attached (JSON array)"),
  v1("hooks", "string", "the hook each event got (JSON object: event -> hook): the attach modes"),
  v1("unavailable", "string", "events that could not be attached, and why (JSON object)"),
  v1("filters", "string", "the capture's kernel-side filters (JSON object)"),
  v1("commandLine", "string", "modtrace's command line (JSON array)"),
  v1("complete", "bool", "the file ends with a trailer: the capture stopped cleanly (or rotated) and its counts are exact", true),
  v1("rotated", "bool", "the trailer closes one file of a rotated set; the set's counts are in its last file"),
  v1("next", "string", "rotated: the next file of the set"),
  v1("end", "int64", "when the capture (or this file) ended, ns since the epoch"),
  v1("eventsInFile", "uint64", "events in this file, by the trailer"),
  v1("eventsWritten", "uint64", "events the capture wrote in all its files, by the trailer"),
  v1("counts", "string", "events written per kind (JSON object)"),
  v1("lost", "uint64", "events lost in the kernel, all causes (exact)"),
  v1("lostRingBuffer", "uint64", "lost: the failed-attempts ring was full"),
  v1("lostPriority", "uint64", "lost: the priority ring was full"),
  v1("lostInflight", "uint64", "lost: no in-flight slot"),
  v1("filtered", "uint64", "events dropped by the capture's filters"),
  v1("rowsRead", "uint64", "event rows read from this file (after read's own filters)", true),
  v1("problems", "uint32", "problems the reader reported in this file (cut, corrupt, no header/trailer)", true),
  v1("skippedBytes", "bool", "the reader skipped damaged bytes: some events of this file may be missing", true),
  v2("ancestors", "uint32", "how many ancestors each event recorded at most (--ancestors)"),
  // Module identity (schema 2).
  v2("imageHook", "string", "what streamed module images for hashing (header)"),
  v2("imageHookUnavailable", "string", "why nothing did: load events then have sha256Error (header)"),
  v2("imagesHashed", "uint64", "distinct module images hashed (trailer)"),
  v2("imagesRingFull", "uint64", "images that did not fit in the image ring: no hash (trailer)"),
  v2("imagesLost", "uint64", "images whose chunks did not all reach modtrace: no hash (trailer)"),
  v2("imagesSaved", "uint64", "--save-modules: new files written (trailer)"),
  v2("imagesAlreadySaved", "uint64", "--save-modules: images whose file was there already (trailer)"),
  v2("imagesNotSaved", "uint64", "--save-modules: images left out (--save-limit reached, or a write failed) (trailer)"),
  // Findings and seals (schema 4).
  v4("callsUntracked", "uint64", "module calls that could not be tracked (over 4,096 in flight at once): their kernel-side events carry another callId (trailer)"),
  v4("findings", "string", "findings the capture made, per rule and severity (trailer; JSON object)"),
  v4("sealing", "string", "a sealed log: its key's fingerprint, --seal-interval and the file before it in a rotated set (header; JSON object; modtrace verify checks it)"),
  v4("seal", "string", "a sealed log's last seal (trailer; JSON object): what modtrace verify checks the file against"),
  // The findings table (schema 5).
  v5("modulesAtStart", "string", "the modules the kernel listed when the capture began: name, size, users, state, address, taints, signature, srcversion, version (header; JSON array; null: no module support, or a log from before schema 5)"),
  v5("findingsOf", "string", "a findings log (modtrace findings -o cbor): the logs its findings were made from, as given on the command line (header; JSON array); its host, kernel and bootTime are theirs when they name one machine and boot, else host and kernel are the judging machine's and bootTime 0"),
];

/** Columns of the findings table (schema 5): one row per finding a log holds,
 * tied to its log (host, file) and to its evidence (callIds, as events carry them). */
export const FINDING_COLUMNS: Column[] = [
  v5("schemaVersion", "uint32", "the row schema version that wrote this row", true),
  v5("host", "string", "host name of the machine that captured (log header)", true),
  v5("kernel", "string", "its kernel release (log header)", true),
  v5("bootTime", "int64", "wall-clock time of that boot, ns since the epoch (log header)", true),
  v5("file", "string", "the log file that holds the finding (without its directory): the captures table's file", true),
  v5("findingId", "string", "sha256 (first 16 bytes, hex) of the host, boot and the finding as logged: the same finding converted twice has the same id", true),
  v5("timestamp", "int64", "when the finding was made: its last evidence's time, or when a kernel watch saw it; ns since the epoch", true),
  v5("rule", "string", "the rule that made it (README.md, Findings): the finding's eventName in JSON and CBOR", true),
  v5("severity", "string", "info, low, medium, high or critical", true),
  v5("techniques", "string", "MITRE ATT&CK technique ids (JSON array)"),
  v5("description", "string", "one line for a person", true),
  v5("evidence", "string", "the events it rests on, oldest first (JSON array of {eventName, timestamp, callId})"),
  v5("evidenceCallIds", "string", "the callIds among them (JSON array of integers): join on the events table's callId with host and bootTime"),
  v5("moduleName", "string", "the module it is about"),
  v5("hostProcessId", "uint32", "the caller it is about: pid as the host sees it"),
  v5("processName", "string", "that caller's comm"),
  v5("executable_path", "string", "that caller's executable"),
  v5("userId", "uint32", "that caller's real uid"),
  v5("details", "string", "the rule's own facts: counts, paths, syscalls (JSON object)"),
];

export const TABLES = { events: EVENT_COLUMNS, captures: CAPTURE_COLUMNS, findings: FINDING_COLUMNS } as const;
export type TableName = keyof typeof TABLES;
