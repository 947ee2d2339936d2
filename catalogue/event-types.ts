// The shape of the catalogue's entries (events.ts): what an event is, where
// each argument's value lives in struct mt_record, and how it is written.
// Plain types and data, like the catalogue itself.

/** syscall: a module syscall, hooked at entry and exit, reported once at its
 * exit with the return value. function: a kernel function hooked at entry
 * and return. tracepoint: a module:* tracepoint. scan: no hook at all: a
 * change in one of the kernel's own lists of hooks (ftrace callbacks,
 * kprobes, BPF programs) that modtrace's scans found, its record built in
 * user space (inventory/). */
export type EventKind = "syscall" | "function" | "tracepoint" | "scan";

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
   * kernel to replace this one (kexec); or a hook on the kernel's code that
   * something put in place (a scan event). */
  door: "module" | "kexec" | "hooks";
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
