// The programs of bpf/modtrace.bpf.c that serve each kind of event in each
// attach mode, and the maps the loader opens by name. The build turns them
// into the table the C shim and the loader share (loader/generated/programs.*),
// so a program or map is named by a number that both sides got from here, and
// the shim refuses an object whose programs are not exactly these.
import { EVENTS, syscall32Function, type EventInfo, type EventKind } from "./events";

export type Mode = "fentry" | "kprobe" | "raw" | "tracepoint";

/** Where a syscall's arguments and the caller's memory are read: at its exit
 * (one program per call) or at its entry (a second program, which sees the
 * caller's memory before a racing thread can rewrite it). */
export type ReadAt = "entry" | "exit";

/** A hook: the program at the event's entry, if any, and the one at its exit
 * (for a tracepoint, the one program). `{name}` is the event's name. */
interface Hook {
  entry?: string;
  exit: string;
}

/** The syscall events' hooks on the 32-bit entry's functions (syscall32Function),
 * attached beside the 64-bit ones wherever the kernel has that entry. Raw
 * mode needs none: its programs see every syscall and tell the two apart. */
export const COMPAT_HOOKS: Partial<Record<Mode, Hook>> = {
  fentry: { entry: "fentry32_{name}", exit: "fexit32_{name}" },
  kprobe: { entry: "kprobe32_{name}", exit: "kretprobe32_{name}" },
};

/** Per kind, the modes it can be hooked in, the preferred (cheapest) first. */
export const HOOKS: Record<EventKind, Partial<Record<Mode, Hook>>> = {
  syscall: {
    fentry: { entry: "fentry_{name}", exit: "fexit_{name}" },
    kprobe: { entry: "ksyscall_{name}", exit: "kretsyscall_{name}" },
    // tp_btf on raw_syscalls: one pair of programs for every syscall event.
    raw: { entry: "on_sys_enter", exit: "on_sys_exit" },
  },
  function: {
    fentry: { entry: "fentry_{name}", exit: "fexit_{name}" },
    kprobe: { entry: "kprobe_{name}", exit: "kretprobe_{name}" },
  },
  tracepoint: {
    tracepoint: { exit: "tp_{name}" },
  },
  // Found by user space's scans, not hooked.
  scan: {},
};

export function modesFor(kind: EventKind): Mode[] {
  return Object.keys(HOOKS[kind]) as Mode[];
}

/** The programs that capture an event in a mode ([] when the mode does not
 * serve its kind), with those on the 32-bit entry when `compat` (the kernel
 * has one). Only a syscall can do without its entry program: its exit
 * still has the arguments in the caller's saved registers. A function's
 * record is read at entry (do_init_module frees the module on failure). */
export function programsFor(e: EventInfo, mode: Mode, readAt: ReadAt, compat = false): string[] {
  const hook = HOOKS[e.kind][mode];
  if (!hook) return [];
  const compatHook = compat && syscall32Function(e) ? COMPAT_HOOKS[mode] : undefined;
  const named = (p: string) => p.replace("{name}", e.name);
  const of = (h: Hook) => [...(h.entry && (e.kind !== "syscall" || readAt === "entry") ? [named(h.entry)] : []), named(h.exit)];
  return [...of(hook), ...(compatHook ? of(compatHook) : [])];
}

/** The kernel functions handed a whole image (bpf/image.h): finit_module's
 * and kexec_file_load's file as read, init_module's copy of the caller's memory. */
export const IMAGE_FUNCTIONS = ["security_kernel_post_read_file", "security_kernel_post_load_data"];
export type ImageMode = "fentry" | "kprobe";

/** Per mode, the programs that stream module images, one per IMAGE_FUNCTIONS
 * entry; the preferred mode first. */
export const IMAGE_PROGRAMS: Record<ImageMode, string[]> = {
  fentry: ["fentry_image_read", "fentry_image_load"],
  kprobe: ["kprobe_image_read", "kprobe_image_load"],
};
export const IMAGE_MODES = Object.keys(IMAGE_PROGRAMS) as ImageMode[];

/** Every program of the object, each once, in the order of their numbers. */
export const ALL_PROGRAMS: string[] = [
  ...new Set(EVENTS.flatMap((e) => modesFor(e.kind).flatMap((m) => programsFor(e, m, "entry", true)))),
  ...IMAGE_MODES.flatMap((m) => IMAGE_PROGRAMS[m]),
];

/** The maps the C shim opens by name: the rings, the counters and the
 * filter sets (bpf/maps.h), and the sections of the two settings globals
 * (bpf/config.h), which libbpf makes maps named after them. */
export const LOADER_MAPS = ["events", "priority_events", "images", ".rodata.config", ".data.attached", "counters", "filter_pid", "filter_uid", "filter_comm"];
