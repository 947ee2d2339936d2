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

import type { ArgInfo, EventInfo } from "./event-types";

export * from "./event-types";

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
// A scan event's: "added" (found at this scan, not at the one before) or "removed".
const CHANGE: ArgInfo = { name: "change", type: "const char*", from: "strVersion", format: "string" };
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
  // The kernel's own lists of hooks on its code, as modtrace's scans find
  // them changing during the capture (every --scan-interval, and right after
  // a module's init ran): a log shows what was hooked when, not only the
  // findings. What was in place when the capture began is the log header's
  // snapshot (kernelAtStart), not events. A hook put in place and removed
  // between two scans is in neither.
  {
    id: 11,
    name: "ftrace_hook",
    kind: "scan",
    door: "hooks",
    about: "a kernel function got (or lost) an ftrace callback of a module's, or one no symbol names (tracefs enabled_functions)",
    args: [
      { name: "symbol", type: "const char*", from: "strArg", format: "string" },
      // "handler+0x0/0x58 [rootkit]", a bare address, or why the kernel shows none.
      { name: "callback", type: "const char*", from: "strFile", format: "string" },
      { name: "callback_owner", type: "const char*", from: "strModule", format: "string" },
      CHANGE,
    ],
  },
  {
    id: 12,
    name: "kprobe_hook",
    kind: "scan",
    door: "hooks",
    about: "a kprobe or kretprobe was registered on (or removed from) a kernel function (debugfs kprobes/list)",
    args: [
      { name: "symbol", type: "const char*", from: "strArg", format: "string" },
      { name: "address", type: "void*", from: "args0", format: "pointer" },
      { name: "probe_type", type: "const char*", from: "strModule", format: "string" },
      { name: "probe_flags", type: "const char*", from: "strFile", format: "string" },
      CHANGE,
    ],
  },
  {
    id: 13,
    name: "bpf_program",
    kind: "scan",
    door: "hooks",
    about: "a BPF program was loaded into (or left) the kernel; with the helpers it calls that change what the system does",
    args: [
      { name: "prog_id", type: "u32", from: "args0", format: "uint" },
      { name: "prog_name", type: "const char*", from: "strModule", format: "string" },
      { name: "prog_type", type: "const char*", from: "strArg", format: "string" },
      { name: "prog_helpers", type: "const char*", from: "strFile", format: "string" },
      { name: "prog_uid", type: "u32", from: "args1", format: "uint" },
      CHANGE,
    ],
  },
];

/** Only the events some BPF program captures: the loader's and doctor's
 * (the scan events have no hook to attach). */
export const HOOKED_EVENTS = EVENTS.filter((e) => e.kind !== "scan");

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
