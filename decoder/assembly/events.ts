// Event kinds (enum mt_event) as Tracee names them, from the event catalogue
// (catalogue/events.ts, generated into ./generated/catalogue).
import * as C from "./generated/catalogue";
import * as L from "./generated/layout";
import * as N from "./generated/names";
import { text, Piece } from "./pieces";

/** An index into the catalogue's per-event tables: ids beyond share the last. */
// @ts-ignore: decorator
@inline export function eventIndex(event: u32): u32 {
  return event < <u32>L.EVENT_COUNT ? event : L.EVENT_COUNT;
}

export function eventName(event: u32): string {
  return C.EVENT_NAMES[eventIndex(event)];
}

export function isSyscall(event: u32): bool {
  return C.EVENT_IS_SYSCALL[eventIndex(event)];
}

/** Tracee's id: a syscall's x86_64 number, else modtrace's own. */
export function traceeId(event: u32): u32 {
  return event < <u32>L.EVENT_COUNT ? C.EVENT_TRACEE_IDS[event] : C.TRACEE_KERNEL_EVENT_BASE + event;
}

export function hookName(hook: u32): string {
  if (hook == L.HOOK_RAW_SYSCALLS) return "raw_syscalls";
  if (hook == L.HOOK_KPROBE) return "kprobe";
  if (hook == L.HOOK_FENTRY) return "fentry";
  if (hook == L.HOOK_TRACEPOINT) return "tracepoint";
  if (hook == L.HOOK_SCAN) return "scan";
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
const HOOK_NAME_PIECES = new StaticArray<Piece>(L.HOOK_SCAN + 2);
for (let e = 0; e <= L.EVENT_COUNT; e++) EVENT_NAME_PIECES[e] = text(eventName(e));
for (let h = 0; h <= L.HOOK_SCAN + 1; h++) HOOK_NAME_PIECES[h] = text(hookName(h));

export function eventNamePiece(event: u32): Piece {
  return EVENT_NAME_PIECES[eventIndex(event)];
}

export function hookNamePiece(hook: u32): Piece {
  return HOOK_NAME_PIECES[hook <= <u32>L.HOOK_SCAN ? hook : L.HOOK_SCAN + 1];
}
