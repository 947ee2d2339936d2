// Reading fields of one struct mt_record (bpf/events.h) at address rec.
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
  return rec + L.REC_OFF_STR + slot * L.STR_LEN;
}

export function strLen(rec: usize, slot: usize): i32 {
  const n = <i32>load<u16>(rec + L.REC_OFF_STR_LEN + (slot << 1));
  return n < L.STR_LEN ? n : L.STR_LEN - 1; // never trust a length past the slot
}

export function strState(rec: usize, slot: usize): u32 {
  return load<u8>(rec + L.REC_OFF_STR_STATE + slot);
}

export function commLen(rec: usize): i32 {
  let n = 0;
  while (n < L.COMM_LEN && load<u8>(rec + L.REC_OFF_COMM + n) != 0) n++;
  return n;
}
