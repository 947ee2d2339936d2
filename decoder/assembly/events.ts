// Event kinds (enum mt_event) as Tracee names them; eventId is Tracee's id,
// which for syscalls is the x86_64 syscall number.
import * as L from "./generated/layout";
import * as N from "./generated/names";
import { text, Piece } from "./pieces";

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

// Errno names as pieces, by number (the kernel's run to a little over 500).
let maxErrno: u64 = 0;
for (let i = 0; i < N.ERRNO_BITS.length; i++) if (N.ERRNO_BITS[i] > maxErrno) maxErrno = N.ERRNO_BITS[i];
const ERRNO_PIECES = new StaticArray<Piece>(<i32>maxErrno + 1);
for (let i = 0; i < N.ERRNO_BITS.length; i++) ERRNO_PIECES[<i32>N.ERRNO_BITS[i]] = text(N.ERRNO_NAMES[i]);

/** The errno's name as a piece, or 0 when the kernel has none for it. */
export function errnoPiece(errno: u64): Piece {
  return errno <= maxErrno ? ERRNO_PIECES[<i32>errno] : 0;
}

// The names above as pieces, by enum value, for the structured formats.
const EVENT_NAME_PIECES = new StaticArray<Piece>(L.EVENT_COUNT + 1);
const HOOK_NAME_PIECES = new StaticArray<Piece>(L.HOOK_TRACEPOINT + 2);
for (let e = 0; e <= L.EVENT_COUNT; e++) EVENT_NAME_PIECES[e] = text(eventName(e));
for (let h = 0; h <= L.HOOK_TRACEPOINT + 1; h++) HOOK_NAME_PIECES[h] = text(hookName(h));

export function eventNamePiece(event: u32): Piece {
  return EVENT_NAME_PIECES[event < <u32>L.EVENT_COUNT ? event : L.EVENT_COUNT];
}

export function hookNamePiece(hook: u32): Piece {
  return HOOK_NAME_PIECES[hook <= <u32>L.HOOK_TRACEPOINT ? hook : L.HOOK_TRACEPOINT + 1];
}
