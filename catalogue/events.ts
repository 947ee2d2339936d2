// The one description of every event modtrace captures. The build generates
// from it the BPF side's enum mt_event and syscall numbers
// (bpf/generated/catalogue.h), the decoder's names and argument tables
// (decoder/assembly/generated/catalogue.ts) and the loader's program table
// (loader/generated/programs.*); the CLI, the log reader and the findings
// read it directly. Adding an event is one entry here plus its BPF code.
// Plain data only: the generators and the decoder's WebAssembly side cannot
// run code from here.

/** x86_64, the one architecture the BPF objects are built for: what the
 * kernel calls its syscall functions (the fentry and kprobe targets). */
export const SYSCALL_PREFIX = "__x64_sys_";

/** The same calls through the 32-bit entry (int 0x80, or a 32-bit process),
 * which any x86-64 process can use where the kernel has IA32_EMULATION: the
 * compat table dispatches to these functions, with i386 numbers. */
export const SYSCALL32_PREFIX = "__ia32_sys_";
/** The 32-bit entry's function of a call whose arguments hold structures laid
 * out differently for 32-bit callers (kexec_load's segments): the kernel's
 * COMPAT_SYSCALL_DEFINE wrapper. */
export const COMPAT_SYSCALL32_PREFIX = "__ia32_compat_sys_";

/** syscall: a module syscall, hooked at entry and exit, reported once at its
 * exit with the return value. function: a kernel function hooked at entry
 * and return. tracepoint: a module:* tracepoint. */
export type EventKind = "syscall" | "function" | "tracepoint";

/** Where in struct mt_record (bpf/events.h) an argument's value lives: the
 * BPF code writes it there, the decoder reads it, and `modtrace read` writes
 * it back when it rebuilds a record from a log. */
export type ArgSource =
  | "args0" | "args1" | "args2" // args[i]: the syscall's integer arguments as passed
  | "waitFlag" // args[0] of module_request: its bool wait
  | "strArg" | "strFile" | "strModule" | "strVersion" | "strSrcversion" // string slots
  | "fileDev" | "fileIno" | "taints"
  | "sigOk"; // two bits of flags: whether the kernel knows, and what

/** Each source as a string slot (enum mt_str_slot's MT_SLOT_<slot>) or a
 * field of struct mt_record (plus a byte offset into it, for args[i]). */
export const ARG_SOURCES: Record<ArgSource, { slot: string } | { field: string; at: number }> = {
  args0: { field: "args", at: 0 },
  args1: { field: "args", at: 8 },
  args2: { field: "args", at: 16 },
  waitFlag: { field: "args", at: 0 },
  strArg: { slot: "ARG" },
  strFile: { slot: "FILE" },
  strModule: { slot: "MODULE" },
  strVersion: { slot: "VERSION" },
  strSrcversion: { slot: "SRCVERSION" },
  fileDev: { field: "file_dev", at: 0 },
  fileIno: { field: "file_ino", at: 0 },
  taints: { field: "taints", at: 0 },
  sigOk: { field: "flags", at: 0 },
};

/** How the decoder writes an argument (one function each in
 * decoder/assembly/args.ts). Each reads a 64-bit field but dev and sigOk,
 * which read 32 bits, and string, which reads a string slot. */
export type ArgFormat =
  | "pointer" // hex in text, an integer elsewhere
  | "uint"
  | "int32" // the low 32 bits, signed (a C int passed in a 64-bit register)
  | "bool"
  | "sigOk" // flags' SIG_OK_KNOWN and SIG_OK bits: null when the kernel has no module signatures
  | "string"
  | "dev" // a kernel dev_t, with "major:minor"
  | "taints" // TAINT_* bit names
  | "finitFlags" // MODULE_INIT_* names of the low 32 bits
  | "deleteFlags" // O_NONBLOCK, O_TRUNC of the low 32 bits
  | "kexecFlags" // KEXEC_* names (KEXEC_ON_CRASH, ...); the architecture in the high 16 bits as hex
  | "kexecFileFlags"; // KEXEC_FILE_* names (KEXEC_FILE_UNLOAD, ...)

/** Every ArgFormat, in the order of their numbers in the generated tables. */
export const ARG_FORMATS: readonly ArgFormat[] = ["pointer", "uint", "int32", "bool", "sigOk", "string", "dev", "taints", "finitFlags", "deleteFlags", "kexecFlags", "kexecFileFlags"];

export interface ArgInfo {
  name: string; // Tracee's name for it
  type: string; // Tracee's type string
  from: ArgSource;
  format: ArgFormat;
  /** There only when the record has this flag (enum mt_record_flag's
   * MT_FLAG_<name>): the kernel gave it. An event without it (a log of an
   * older modtrace) has no such argument, in every output. */
  presentWith?: "CODE_RANGE";
}

export interface EventInfo {
  id: number; // enum mt_event: also the event's bit in the kernel-side event mask, so below 32
  name: string; // Tracee's name
  kind: EventKind;
  /** The x86_64 syscall number, for syscall events (Tracee's id for them too). */
  syscall?: number;
  /** Its i386 number: the one a call through the 32-bit entry carries
   * (none: the i386 table has no such call). */
  syscall32?: number;
  /** The 32-bit entry goes through a compat wrapper (COMPAT_SYSCALL32_PREFIX). */
  compat32?: boolean;
  /** A kernel may be built without it (CONFIG_KEXEC, CONFIG_KEXEC_FILE): a
   * hook missing for it only makes it unavailable, never moves the other
   * syscall events to another attach mode. */
  optional?: boolean;
  /** What the call does to the kernel: load or unload a module, or stage a
   * kernel to replace this one (kexec). */
  door: "module" | "kexec";
  about: string; // one line for `modtrace events`
  /** Images (sha256 of what the kernel was handed: a module, or the kernel
   * kexec_file_load stages): "handed" for the calls that hand the kernel
   * one, "carried" for an event that reports the image of the call that
   * caused it, "executed" for a program the kernel ran, whose file user
   * space hashes (the kernel reads no more than its first page). */
  image?: "handed" | "carried" | "executed";
  /** A tracepoint event's kernel tracepoint, where it is not module:NAME. */
  tracepoint?: { group: string; name: string };
  args: ArgInfo[];
}

const MODULE_ARGS: ArgInfo[] = [
  { name: "name", type: "const char*", from: "strModule", format: "string" },
  { name: "version", type: "const char*", from: "strVersion", format: "string" },
  { name: "src_version", type: "const char*", from: "strSrcversion", format: "string" },
];
// The file of finit_module's fd (also on the module_load it caused), or of
// kexec_file_load's kernel fd: the file the kernel read.
const FILE_ARGS: ArgInfo[] = [
  { name: "pathname", type: "const char*", from: "strFile", format: "string" },
  { name: "dev", type: "dev_t", from: "fileDev", format: "dev" },
  { name: "inode", type: "unsigned long", from: "fileIno", format: "uint" },
];
const PARAM_VALUES: ArgInfo = { name: "param_values", type: "const char*", from: "strArg", format: "string" };

export const EVENTS: EventInfo[] = [
  {
    id: 1,
    name: "init_module",
    kind: "syscall",
    door: "module",
    syscall: 175,
    syscall32: 128,
    image: "handed",
    about: "load a module from an image in the caller's memory",
    args: [
      { name: "module_image", type: "void*", from: "args0", format: "pointer" },
      { name: "len", type: "unsigned long", from: "args1", format: "uint" },
      PARAM_VALUES,
    ],
  },
  {
    id: 2,
    name: "finit_module",
    kind: "syscall",
    door: "module",
    syscall: 313,
    syscall32: 350,
    image: "handed",
    about: "load a module from a file descriptor (what modprobe and insmod use)",
    args: [
      { name: "fd", type: "int", from: "args0", format: "int32" },
      PARAM_VALUES,
      { name: "flags", type: "int", from: "args2", format: "finitFlags" },
      ...FILE_ARGS,
    ],
  },
  {
    id: 3,
    name: "delete_module",
    kind: "syscall",
    door: "module",
    syscall: 176,
    syscall32: 129,
    about: "unload a module by name",
    args: [
      { name: "name", type: "const char*", from: "strArg", format: "string" },
      { name: "flags", type: "unsigned int", from: "args1", format: "deleteFlags" },
    ],
  },
  {
    id: 4,
    name: "module_load",
    kind: "tracepoint",
    door: "module",
    image: "carried",
    about: "the kernel loaded a module (before its init runs); with the file when finit_module loaded it",
    args: [
      ...MODULE_ARGS,
      { name: "taints", type: "unsigned long", from: "taints", format: "taints" },
      { name: "sig_ok", type: "bool", from: "sigOk", format: "sigOk" },
      ...FILE_ARGS,
      // Where its code lies (the core's code: core_layout up to 6.3,
      // mem[MOD_TEXT] from 6.4), read in the kernel: the owner of a hook's
      // target even after the module leaves the module list and kallsyms.
      { name: "code_base", type: "void*", from: "args0", format: "pointer", presentWith: "CODE_RANGE" },
      { name: "code_size", type: "unsigned int", from: "args1", format: "uint", presentWith: "CODE_RANGE" },
    ],
  },
  {
    id: 5,
    name: "module_free",
    kind: "tracepoint",
    door: "module",
    about: "the kernel freed a module: unloaded, or its load failed",
    args: [{ name: "name", type: "const char*", from: "strModule", format: "string" }],
  },
  {
    id: 6,
    name: "do_init_module",
    kind: "function",
    door: "module",
    about: "a module's init ran; returnValue is what init returned",
    args: MODULE_ARGS,
  },
  {
    id: 7,
    name: "module_request",
    kind: "tracepoint",
    door: "module",
    about: "the kernel asked modprobe for a module (autoload)",
    args: [
      { name: "name", type: "const char*", from: "strArg", format: "string" },
      { name: "wait", type: "bool", from: "waitFlag", format: "bool" },
    ],
  },
  // kexec: a new kernel staged in memory, run at the next reboot (or at a
  // crash) in place of this one, with none of its modules, hooks or
  // monitors: another way to run code of one's choosing as the kernel.
  {
    id: 8,
    name: "kexec_load",
    kind: "syscall",
    door: "kexec",
    optional: true,
    syscall: 246,
    syscall32: 283,
    compat32: true,
    about: "stage a kernel from segments in the caller's memory (no segments: unstage)",
    // The segments pointer is not kept: what it points to is not read.
    args: [
      { name: "entry", type: "unsigned long", from: "args0", format: "pointer" },
      { name: "nr_segments", type: "unsigned long", from: "args1", format: "uint" },
      { name: "flags", type: "unsigned long", from: "args2", format: "kexecFlags" },
    ],
  },
  {
    id: 9,
    name: "kexec_file_load",
    kind: "syscall",
    door: "kexec",
    optional: true,
    syscall: 320,
    image: "handed",
    about: "stage a kernel from a file descriptor (KEXEC_FILE_UNLOAD: unstage)",
    // cmdline_len is the string's; the kernel fd's file is the one the kernel read.
    args: [
      { name: "kernel_fd", type: "int", from: "args0", format: "int32" },
      { name: "initrd_fd", type: "int", from: "args1", format: "int32" },
      { name: "cmdline", type: "const char*", from: "strArg", format: "string" },
      { name: "flags", type: "unsigned long", from: "args2", format: "kexecFileFlags" },
      ...FILE_ARGS,
    ],
  },
  // The program the kernel runs as root for an autoload request
  // (modprobe_path), seen as it starts, whatever modprobe_path said then: a
  // path overwritten and put back between two scans still shows here. Every
  // other usermode helper too (core_pattern pipes, request-key, hotplug):
  // the kernel starting a program of its own accord.
  {
    id: 10,
    name: "call_usermodehelper",
    kind: "tracepoint",
    tracepoint: { group: "sched", name: "sched_process_exec" },
    door: "module",
    image: "executed",
    about: "the kernel ran a program as root of its own accord (modprobe for an autoload), seen as it starts",
    args: [
      { name: "pathname", type: "const char*", from: "strFile", format: "string" },
      { name: "argv", type: "const char*const*", from: "strArg", format: "string" },
      // The file that runs: the program, or a script's interpreter.
      { name: "dev", type: "dev_t", from: "fileDev", format: "dev" },
      { name: "inode", type: "unsigned long", from: "fileIno", format: "uint" },
    ],
  },
];

/** The function the 32-bit entry dispatches the syscall event to, or
 * undefined when the i386 table has no such call. */
export function syscall32Function(e: EventInfo): string | undefined {
  if (e.kind !== "syscall" || e.syscall32 === undefined) return undefined;
  return (e.compat32 ? COMPAT_SYSCALL32_PREFIX : SYSCALL32_PREFIX) + e.name;
}

/** Tracee's id: the syscall number for syscalls. Tracee's ids for its kernel
 * events change between its releases, so those get modtrace's own, this
 * base plus enum mt_event. */
export const TRACEE_KERNEL_EVENT_BASE = 2000;

export function traceeId(e: EventInfo): number {
  return e.syscall ?? TRACEE_KERNEL_EVENT_BASE + e.id;
}

/** The kernel tracepoint behind a tracepoint event. */
export function tracepointOf(e: EventInfo): { group: string; name: string } {
  return e.tracepoint ?? { group: "module", name: e.name };
}

export function eventByName(name: string): EventInfo | undefined {
  return EVENTS.find((e) => e.name === name);
}

/** MT_EVENT_INIT_MODULE's INIT_MODULE: the enum constant's name. */
export function constantName(e: EventInfo): string {
  return e.name.toUpperCase();
}
