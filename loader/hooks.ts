// How the loader hooks the catalogue's events (catalogue/events.ts) in each
// attach mode: when a syscall is read, and the words the CLI uses for a hook.
import { IMAGE_FUNCTIONS, type ImageMode, type Mode, type ReadAt } from "../catalogue/programs";
import { tracepointOf, type EventInfo } from "../catalogue/events";

export type ReadAtRequest = ReadAt | "auto";

/** auto: entry where only module syscalls pay for the second program
 * (fentry, kprobe), exit where every syscall on the host would (raw). */
export function readAtFor(mode: Mode, request: ReadAtRequest): ReadAt {
  if (request !== "auto") return request;
  return mode === "raw" ? "exit" : "entry";
}

export function imageHookLabel(mode: ImageMode): string {
  return `${mode} on ${IMAGE_FUNCTIONS.join(", ")}`;
}

export function hookLabel(e: EventInfo, mode: Mode, readAt: ReadAt = readAtFor(mode, "auto")): string {
  if (mode === "tracepoint") return `tracepoint ${tracepointOf(e).group}:${tracepointOf(e).name}`;
  const entry = readAt === "entry" || e.kind !== "syscall";
  if (mode === "raw") return entry ? "raw_syscalls sys_enter+sys_exit" : "raw_syscalls sys_exit";
  if (e.kind === "syscall") return mode === "fentry" ? (entry ? "fentry/fexit" : "fexit") : entry ? "ksyscall kprobe/kretprobe" : "ksyscall kretprobe";
  return `${mode === "fentry" ? "fentry/fexit" : "kprobe/kretprobe"} on ${e.name}`;
}
