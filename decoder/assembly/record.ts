// Reading fields of one struct mt_record (bpf/events.h) at address rec. The
// batch walker (index.ts) has checked that every string lies inside its record.
import * as L from "./generated/layout";

// @ts-ignore: decorator
@inline export function u8At(rec: usize, off: usize): u32 {
  return load<u8>(rec + off);
}
// @ts-ignore: decorator
@inline export function u32At(rec: usize, off: usize): u32 {
  return load<u32>(rec + off);
}
// @ts-ignore: decorator
@inline export function u64At(rec: usize, off: usize): u64 {
  return load<u64>(rec + off);
}
// @ts-ignore: decorator
@inline export function arg(rec: usize, i: usize): u64 {
  return load<u64>(rec + L.REC_OFF_ARGS + (i << 3));
}

export function strPtr(rec: usize, slot: usize): usize {
  return rec + <usize>load<u16>(rec + L.REC_OFF_STR_OFF + (slot << 1));
}

export function strLen(rec: usize, slot: usize): i32 {
  return <i32>load<u16>(rec + L.REC_OFF_STR_LEN + (slot << 1));
}

/** Why the bytes at rec cannot be a record of at most `room` bytes, or 0. */
export function recordError(rec: usize, room: usize): i32 {
  if (room < <usize>L.REC_SIZE) return ERR_BAD_LENGTH;
  const size = <usize>load<u32>(rec + L.REC_OFF_SIZE);
  if (size > room) return ERR_BAD_LENGTH;
  if (load<u16>(rec + L.REC_OFF_VERSION) != L.LAYOUT_VERSION || size < <usize>L.REC_SIZE || size > <usize>L.RECORD_MAX || (size & 7) != 0)
    return ERR_BAD_RECORD;
  if (load<u8>(rec + L.REC_OFF_ANCESTOR_COUNT) > <u32>L.ANCESTORS) return ERR_BAD_RECORD;
  for (let slot: usize = 0; slot < <usize>L.SLOT_COUNT; slot++) {
    const off = <usize>load<u16>(rec + L.REC_OFF_STR_OFF + (slot << 1));
    const len = <usize>strLen(rec, slot);
    if (len >= <usize>L.STR_LEN) return ERR_BAD_RECORD;
    if (len && (off < <usize>L.REC_SIZE || off + len > size)) return ERR_BAD_RECORD;
  }
  return 0;
}

export const ERR_BAD_LENGTH: i32 = -1;
export const ERR_BAD_RECORD: i32 = -2;

export function strState(rec: usize, slot: usize): u32 {
  return load<u8>(rec + L.REC_OFF_STR_STATE + slot);
}

export function commLen(rec: usize): i32 {
  let n = 0;
  while (n < L.COMM_LEN && load<u8>(rec + L.REC_OFF_COMM + n) != 0) n++;
  return n;
}

/** delete_module: did the kernel act on another name than the one read from
 * the caller's memory at entry (which the caller could change meanwhile)? */
export function nameMismatch(rec: usize): bool {
  if (strState(rec, L.SLOT_MODULE) != L.STR_OK || strState(rec, L.SLOT_ARG) != L.STR_OK) return false;
  const n = strLen(rec, L.SLOT_ARG);
  return n != strLen(rec, L.SLOT_MODULE) || memory.compare(strPtr(rec, L.SLOT_ARG), strPtr(rec, L.SLOT_MODULE), n) != 0;
}
