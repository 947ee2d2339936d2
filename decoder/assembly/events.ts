// Event kinds (enum mt_event) as Tracee names them; eventId is Tracee's id,
// which for syscalls is the x86_64 syscall number.
import * as L from "./generated/layout";
import * as N from "./generated/names";

export function eventName(event: u32): string {
  if (event == L.EVENT_INIT_MODULE) return "init_module";
  if (event == L.EVENT_FINIT_MODULE) return "finit_module";
  if (event == L.EVENT_DELETE_MODULE) return "delete_module";
  return "unknown";
}

export function traceeId(event: u32): u32 {
  if (event == L.EVENT_INIT_MODULE) return 175;
  if (event == L.EVENT_FINIT_MODULE) return 313;
  if (event == L.EVENT_DELETE_MODULE) return 176;
  return 0;
}

export function hookName(hook: u32): string {
  if (hook == L.HOOK_RAW_SYSCALLS) return "raw_syscalls";
  if (hook == L.HOOK_KPROBE) return "kprobe";
  if (hook == L.HOOK_FENTRY) return "fentry";
  return "unknown";
}

/** The errno's name, or "" when the kernel has none for it. */
export function errnoName(errno: u64): string {
  // A scan, but only for failed calls, over ~150 entries.
  for (let i = 0; i < N.ERRNO_BITS.length; i++) if (N.ERRNO_BITS[i] == errno) return N.ERRNO_NAMES[i];
  return "";
}
