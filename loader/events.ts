// The events modtrace can capture: how the CLI offers them, which programs
// of bpf/modtrace.bpf.c serve each attach mode, and where each argument sits
// in a record (for rebuilding records from a log). The decoder writes the
// same argument names; tests/unit/decoder-fixture.test.ts and the read round
// trip hold the two together.
import * as layout from "../decoder/assembly/generated/layout";

/** Where in struct mt_record an argument's value lives. */
export type ArgSource =
  | "args0" | "args1" | "args2" | "waitFlag"
  | "strArg" | "strFile" | "strModule" | "strVersion" | "strSrcversion"
  | "fileDev" | "fileIno" | "taints" | "sigOk";

export interface ArgInfo {
  name: string;
  from: ArgSource;
}

export type Mode = "fentry" | "kprobe" | "raw" | "tracepoint";

/** Where a syscall's arguments and the caller's memory are read: at its exit
 * (one program per call) or at its entry (a second program, which sees the
 * caller's memory before a racing thread can rewrite it). */
export type ReadAt = "entry" | "exit";
export type ReadAtRequest = ReadAt | "auto";

/** auto: entry where only module syscalls pay for the second program
 * (fentry, kprobe), exit where every syscall on the host would (raw). */
export function readAtFor(mode: Mode, request: ReadAtRequest): ReadAt {
  if (request !== "auto") return request;
  return mode === "raw" ? "exit" : "entry";
}

export interface EventInfo {
  name: string;
  id: number; // enum mt_event
  kind: "syscall" | "function" | "tracepoint";
  args: ArgInfo[];
  about: string;
}

const MODULE_ARGS: ArgInfo[] = [
  { name: "name", from: "strModule" },
  { name: "version", from: "strVersion" },
  { name: "src_version", from: "strSrcversion" },
];
const FILE_ARGS: ArgInfo[] = [
  { name: "pathname", from: "strFile" },
  { name: "dev", from: "fileDev" },
  { name: "inode", from: "fileIno" },
];

export const EVENTS: EventInfo[] = [
  {
    name: "init_module",
    id: layout.EVENT_INIT_MODULE,
    kind: "syscall",
    args: [
      { name: "module_image", from: "args0" },
      { name: "len", from: "args1" },
      { name: "param_values", from: "strArg" },
    ],
    about: "load a module from an image in the caller's memory",
  },
  {
    name: "finit_module",
    id: layout.EVENT_FINIT_MODULE,
    kind: "syscall",
    args: [
      { name: "fd", from: "args0" },
      { name: "param_values", from: "strArg" },
      { name: "flags", from: "args2" },
      ...FILE_ARGS,
    ],
    about: "load a module from a file descriptor (what modprobe and insmod use)",
  },
  {
    name: "delete_module",
    id: layout.EVENT_DELETE_MODULE,
    kind: "syscall",
    args: [
      { name: "name", from: "strArg" },
      { name: "flags", from: "args1" },
    ],
    about: "unload a module by name",
  },
  {
    name: "module_load",
    id: layout.EVENT_MODULE_LOAD,
    kind: "tracepoint",
    args: [...MODULE_ARGS, { name: "taints", from: "taints" }, { name: "sig_ok", from: "sigOk" }, ...FILE_ARGS],
    about: "the kernel loaded a module (before its init runs); with the file when finit_module loaded it",
  },
  {
    name: "module_free",
    id: layout.EVENT_MODULE_FREE,
    kind: "tracepoint",
    args: [{ name: "name", from: "strModule" }],
    about: "the kernel freed a module: unloaded, or its load failed",
  },
  {
    name: "do_init_module",
    id: layout.EVENT_DO_INIT_MODULE,
    kind: "function",
    args: MODULE_ARGS,
    about: "a module's init ran; returnValue is what init returned",
  },
  {
    name: "module_request",
    id: layout.EVENT_MODULE_REQUEST,
    kind: "tracepoint",
    args: [
      { name: "name", from: "strArg" },
      { name: "wait", from: "waitFlag" },
    ],
    about: "the kernel asked modprobe for a module (autoload)",
  },
];

export function eventByName(name: string): EventInfo | undefined {
  return EVENTS.find((e) => e.name === name);
}

/** The programs of bpf/modtrace.bpf.c that capture an event in a mode. */
export function programsFor(e: EventInfo, mode: Mode, readAt: ReadAt = readAtFor(mode, "auto")): string[] {
  if (e.kind === "syscall") {
    const both = (entry: string, exit: string) => (readAt === "entry" ? [entry, exit] : [exit]);
    if (mode === "fentry") return both(`fentry_${e.name}`, `fexit_${e.name}`);
    if (mode === "kprobe") return both(`ksyscall_${e.name}`, `kretsyscall_${e.name}`);
    if (mode === "raw") return both("on_sys_enter", "on_sys_exit");
  }
  if (e.kind === "function") {
    if (mode === "fentry") return [`fentry_${e.name}`, `fexit_${e.name}`];
    if (mode === "kprobe") return [`kprobe_${e.name}`, `kretprobe_${e.name}`];
  }
  if (e.kind === "tracepoint" && mode === "tracepoint") return [`tp_${e.name}`];
  return [];
}

/** The kernel functions handed a whole module image (bpf/image.h): finit_module's
 * file as read, init_module's copy of the caller's memory. */
export const IMAGE_FUNCTIONS = ["security_kernel_post_read_file", "security_kernel_post_load_data"];
export type ImageMode = "fentry" | "kprobe";
export const IMAGE_MODES: ImageMode[] = ["fentry", "kprobe"];

/** The programs that stream module images in a mode, one per IMAGE_FUNCTIONS entry. */
export function imagePrograms(mode: ImageMode): string[] {
  return [`${mode}_image_read`, `${mode}_image_load`];
}

export function imageHookLabel(mode: ImageMode): string {
  return `${mode} on ${IMAGE_FUNCTIONS.join(", ")}`;
}

export const ALL_PROGRAMS: string[] = [
  ...new Set(EVENTS.flatMap((e) => (["fentry", "kprobe", "raw", "tracepoint"] as Mode[]).flatMap((m) => programsFor(e, m, "entry")))),
  ...IMAGE_MODES.flatMap(imagePrograms),
];

export function hookLabel(e: EventInfo, mode: Mode, readAt: ReadAt = readAtFor(mode, "auto")): string {
  if (mode === "tracepoint") return `tracepoint module:${e.name}`;
  const entry = readAt === "entry" || e.kind !== "syscall";
  if (mode === "raw") return entry ? "raw_syscalls sys_enter+sys_exit" : "raw_syscalls sys_exit";
  if (e.kind === "syscall") return mode === "fentry" ? (entry ? "fentry/fexit" : "fexit") : entry ? "ksyscall kprobe/kretprobe" : "ksyscall kretprobe";
  return `${mode === "fentry" ? "fentry/fexit" : "kprobe/kretprobe"} on ${e.name}`;
}
