// The values of an event map as writeRecord (record/records.ts) puts them in
// a record: integers as their low bits, command names cut to the kernel's
// length, strings into slots with the state their map says. Each returns
// false for a value writeRecord would refuse, or one it would take that this
// side leaves to it (rebuild.ts says why).
import * as L from "./generated/layout";
import * as R from "./cbor-in";
import * as K from "./keys";

/** The record being rebuilt (where rebuild-run.ts puts it), and the last integer read. */
export class Built {
  static out: usize = 0;
  /** Where its next string goes: its size so far. */
  static size: usize = 0;
  static int: u64 = 0;
}

// @ts-ignore: decorator
@inline function isSimple(info: u32): bool {
  return R.major == 7 && R.info == info;
}

/** The integer at pos into Built.int (two's complement, as a 64-bit store of it); false when absent or not one. */
export function intAt(pos: usize): bool {
  if (!pos) return false;
  R.seek(pos);
  if (!R.head()) return false;
  if (R.major == 0) Built.int = R.arg;
  else if (R.major == 1) Built.int = ~R.arg;
  else return false;
  return true;
}

/** An integer that is a u32 as it stands (a pid a filter compares whole). */
export function strictU32At(pos: usize): bool {
  return intAt(pos) && R.major == 0 && R.arg <= 0xffffffff;
}

/** A field the table reads straight from the record (its `record`), into
 * dest: a value of its kind that the decoder writes back as it stands. */
export function recordFieldAt(pos: usize, kind: u8, dest: usize): bool {
  if (kind == K.RECORD_BOOL) {
    R.seek(pos);
    if (!R.head() || R.major != 7 || (R.info != 20 && R.info != 21)) return false;
    store<u8>(dest, R.info == 21 ? 1 : 0);
    return true;
  }
  if (!intAt(pos)) return false;
  const narrow = kind == K.RECORD_UINT32 || kind == K.RECORD_INT32;
  let fits: bool;
  if (kind == K.RECORD_UINT32) fits = R.major == 0 && R.arg <= 0xffffffff;
  else if (kind == K.RECORD_INT32) fits = R.arg <= 0x7fffffff;
  else if (kind == K.RECORD_UINT64) fits = R.major == 0;
  else fits = R.arg <= 0x7fffffffffffffff;
  if (!fits) return false;
  if (narrow) store<u32>(dest, <u32>Built.int);
  else store<u64>(dest, Built.int);
  return true;
}

export function isNull(pos: usize): bool {
  if (!pos) return false;
  R.seek(pos);
  return R.head() && isSimple(22);
}

/** A command name at off: its exact bytes (raw) where given, else its text; at most the kernel's COMM_LEN - 1. */
export function comm(off: usize, raw: usize, name: usize): bool {
  if (raw && !isNull(raw)) {
    R.seek(raw);
    if (!R.head() || R.major != 2) return false;
    const n = R.arg < <u64>(L.COMM_LEN - 1) ? <usize>R.arg : <usize>(L.COMM_LEN - 1);
    memory.copy(Built.out + off, R.bytesAfterHead(), n);
    return true;
  }
  if (!name) return false;
  R.seek(name);
  const text = R.text();
  if (R.bad()) return false;
  const n = R.arg < <u64>(L.COMM_LEN - 1) ? <usize>R.arg : <usize>(L.COMM_LEN - 1);
  memory.copy(Built.out + off, text, n);
  return true;
}

/** A command name the record holds whole (the kernel's are at most COMM_LEN - 1 bytes). */
export function commFits(pos: usize): bool {
  if (!pos) return false;
  R.seek(pos);
  return R.head() && R.major == 3 && R.arg < <u64>L.COMM_LEN;
}

/** A string slot from its value and the entries beside it (truncated, error,
 * raw; 0 where absent): writeRecord's RecordBuilder.slot. */
export function slot(index: i32, value: usize, truncated: usize, error: usize, raw: usize): bool {
  const out = Built.out;
  let len: usize = 0;
  let state: u32 = L.STR_ABSENT;
  if (!value || isNull(value)) {
    if (error) {
      // A truthy error: a text that is not empty, or true.
      R.seek(error);
      if (!R.head()) return false;
      if (R.major == 3) {
        if (R.arg > 0) state = L.STR_FAULT;
      } else if (isSimple(21)) state = L.STR_FAULT;
      else if (!isSimple(20) && !isSimple(22)) return false;
    }
  } else {
    R.seek(value);
    const text = R.text();
    if (R.bad()) return false;
    const textLen = R.arg;
    if (raw && !isNull(raw)) {
      R.seek(raw);
      if (!R.head() || R.major != 2 || R.arg >= <u64>L.STR_LEN) return false;
      len = <usize>R.arg;
      memory.copy(out + Built.size, R.bytesAfterHead(), len);
    } else {
      if (textLen > <u64>(L.STR_LEN - 1)) return false;
      len = <usize>textLen;
      memory.copy(out + Built.size, text, len);
    }
    state = L.STR_OK;
    if (truncated) {
      R.seek(truncated);
      if (!R.head()) return false;
      if (isSimple(21)) state = L.STR_TRUNCATED;
      else if (!isSimple(20) && !isSimple(22)) return false;
    }
  }
  store<u16>(out + L.REC_OFF_STR_OFF + (<usize>index << 1), <u16>Built.size);
  store<u16>(out + L.REC_OFF_STR_LEN + (<usize>index << 1), <u16>len);
  store<u8>(out + L.REC_OFF_STR_STATE + <usize>index, <u8>state);
  Built.size += len;
  return true;
}

/** Where each of keys' values starts in the map at pos (0: absent); false
 * when pos is no map, or the map has another key, or one twice. */
export function mapEntries(pos: usize, keys: StaticArray<usize>, found: StaticArray<usize>): bool {
  for (let k = 0; k < keys.length; k++) found[k] = 0;
  if (!pos) return false;
  R.seek(pos);
  if (!R.head() || R.major != 5) return false;
  const n = R.entries();
  let last = -1;
  for (let i = 0; i < n; i++) {
    // The key after the last first: maps come in one order.
    let k = last + 1;
    if (k >= keys.length || !R.takes(keys[k])) {
      k = 0;
      while (k < keys.length && !R.takes(keys[k])) k++;
    }
    if (k == keys.length || found[k]) return false;
    last = k;
    found[k] = R.pos();
    R.skip();
    if (R.bad()) return false;
  }
  return n >= 0;
}

const PATH_KEYS: StaticArray<usize> = [K.PATH, K.TRUNCATED, K.ERROR, K.RAW];
const pathEntries = new StaticArray<usize>(4);

/** A slot from a map {path, truncated, error, raw} (executable, cgroup); absent or null: an absent string. */
export function slotOfMap(index: i32, pos: usize): bool {
  if (!pos || isNull(pos)) return slot(index, 0, 0, 0, 0);
  if (!mapEntries(pos, PATH_KEYS, pathEntries)) return false;
  return slot(index, pathEntries[0], pathEntries[1], pathEntries[2], pathEntries[3]);
}
