// Event kinds (enum mt_event) as Tracee names them; eventId is Tracee's id,
// which for syscalls is the x86_64 syscall number.
import * as L from "./generated/layout";
import * as N from "./generated/names";

export function eventName(event: u32): string {
  if (event == L.EVENT_INIT_MODULE) return "init_module";
  if (event == L.EVENT_FINIT_MODULE) return "finit_module";
  if (event == L.EVENT_DELETE_MODULE) return "delete_module";
  if (event == L.EVENT_MODULE_LOAD) return "module_load";
  if (event == L.EVENT_MODULE_FREE) return "module_free";
  if (event == L.EVENT_DO_INIT_MODULE) return "do_init_module";
  if (event == L.EVENT_MODULE_REQUEST) return "module_request";
  return "unknown";
}

export function isSyscall(event: u32): bool {
  return event == L.EVENT_INIT_MODULE || event == L.EVENT_FINIT_MODULE || event == L.EVENT_DELETE_MODULE;
}

/** Tracee's id for the syscalls (their x86_64 numbers); Tracee's ids for its
 * kernel events change between its releases, so those get modtrace's own,
 * 2000 + enum mt_event. */
export function traceeId(event: u32): u32 {
  if (event == L.EVENT_INIT_MODULE) return 175;
  if (event == L.EVENT_FINIT_MODULE) return 313;
  if (event == L.EVENT_DELETE_MODULE) return 176;
  return 2000 + event;
}

export function hookName(hook: u32): string {
  if (hook == L.HOOK_RAW_SYSCALLS) return "raw_syscalls";
  if (hook == L.HOOK_KPROBE) return "kprobe";
  if (hook == L.HOOK_FENTRY) return "fentry";
  if (hook == L.HOOK_TRACEPOINT) return "tracepoint";
  return "unknown";
}

/** The errno's name, or "" when the kernel has none for it. */
export function errnoName(errno: u64): string {
  // A scan, but only for failed calls, over ~150 entries.
  for (let i = 0; i < N.ERRNO_BITS.length; i++) if (N.ERRNO_BITS[i] == errno) return N.ERRNO_NAMES[i];
  return "";
}
