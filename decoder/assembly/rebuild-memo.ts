// A run of events from one process (a burst of calls: what makes a log
// large) repeats its caller's context byte for byte. The rebuild keeps the
// last context block it read (the map's context fields, one after another:
// userNamespace to ancestryCut as the decoder writes them) with what that
// block gave the record (its context part and strings), and when the next
// map's block is the same bytes, copies those instead of reading the block
// again. What writeContext() makes of a block depends on the block's bytes
// alone, so a memo keyed by those bytes is never stale.
import * as L from "./generated/layout";
import { Built } from "./rebuild-values";
import { IS_CONTEXT } from "./rebuild-context";

const MAX_BLOCK: usize = 8192;
const MAX_FIELDS = 16;
// The record's context part: cap_effective to the end of the ancestors, all
// of it writeContext()'s (bpf/events.h keeps the context last).
const PART_AT: usize = L.REC_OFF_CAP_EFFECTIVE;
const PART_LEN: usize = <usize>L.REC_SIZE - PART_AT;
// Its strings: the cgroup path and each ancestor's executable.
const SLOTS = 1 + L.ANCESTORS;
const MAX_STRINGS: usize = <usize>SLOTS * L.STR_LEN;

/** The record's slot for context string s: the cgroup's, then each ancestor's executable. */
function slotOf(s: i32): usize {
  return <usize>(s == 0 ? L.SLOT_CGROUP : L.SLOT_ANCESTOR_EXE + s - 1);
}

const block = changetype<usize>(new StaticArray<u8>(<i32>MAX_BLOCK));
const part = changetype<usize>(new StaticArray<u8>(<i32>PART_LEN));
const strings = changetype<usize>(new StaticArray<u8>(<i32>MAX_STRINGS));
const fields = new StaticArray<i32>(MAX_FIELDS);
const valueAt = new StaticArray<usize>(MAX_FIELDS);
const slotAt = new StaticArray<u16>(SLOTS);
const slotLen = new StaticArray<u16>(SLOTS);
const slotState = new StaticArray<u8>(SLOTS);

let blockLen: usize = 0; // 0: no memo
let first: i32 = -1;
let count: i32 = 0;
let after: i32 = 0;
let stringsLen: usize = 0;
let context: i32 = 0;

/** The block's fields: how many. */
export function fieldCount(): i32 {
  return count;
}

/** The field after the block's last, the reader's next guess. */
export function nextField(): i32 {
  return after;
}

// The map being read: whether its context fields so far make one block
// (one after another), where it starts and ends, and whether the memo's
// bytes were found there.
const NO_BLOCK = 0;
const IN_BLOCK = 1;
const AFTER_BLOCK = 2;
const SCATTERED = 3; // a context field after another field followed the block
let state = NO_BLOCK;
let start: usize = 0;
let end: usize = 0;
let firstOfMap = -1;
let foundEnd: usize = 0;

/** A new map. */
export function begin(): void {
  state = NO_BLOCK;
  start = end = foundEnd = 0;
  firstOfMap = -1;
}

/** Field f, its key at keyAt (the map's i-th of n entries, the input up to
 * limit): the memo block's length when its bytes start there (its fields
 * then placed in at), 0 to read the field, -1 for a key twice. */
export function field(f: i32, keyAt: usize, limit: usize, i: i32, n: i32, at: StaticArray<usize>): isize {
  if (!IS_CONTEXT[f]) {
    if (state == IN_BLOCK) state = AFTER_BLOCK;
    return 0;
  }
  if (state != NO_BLOCK) {
    if (state != IN_BLOCK) state = SCATTERED;
    return 0;
  }
  state = IN_BLOCK;
  start = keyAt;
  firstOfMap = f;
  if (!blockLen || f != first || i + count > n || keyAt + blockLen > limit || memory.compare(keyAt, block, blockLen) != 0) return 0;
  for (let k = 0; k < count; k++) {
    if (at[fields[k]]) return -1;
    at[fields[k]] = keyAt + valueAt[k];
  }
  end = foundEnd = keyAt + blockLen;
  return <isize>blockLen;
}

/** The field just read ends at pos. */
export function read(pos: usize): void {
  if (state == IN_BLOCK) end = pos;
}

/** Whether the memo's block is all of the map's context. */
export function remembered(): bool {
  return foundEnd != 0 && end == foundEnd && state != SCATTERED;
}

/** Keeps the map's block, whose fields are at (positions in it), with what
 * writeContext() made of it: the record's context part, the strings it
 * added from stringsFrom on, and its result. */
export function keep(at: StaticArray<usize>, stringsFrom: usize, result: i32): void {
  if (state != IN_BLOCK && state != AFTER_BLOCK) return;
  blockLen = 0;
  const len = end - start;
  const added = Built.size - stringsFrom;
  if (len > MAX_BLOCK || added > MAX_STRINGS) return;
  count = 0;
  let last: usize = 0;
  for (let f = 0; f < at.length; f++) {
    const pos = at[f];
    if (pos <= start || pos >= end) continue;
    if (count == MAX_FIELDS) return;
    fields[count] = f;
    valueAt[count++] = pos - start;
    if (pos > last) {
      last = pos;
      after = f + 1;
    }
  }
  const out = Built.out;
  for (let s = 0; s < SLOTS; s++) {
    const index = slotOf(s);
    slotAt[s] = <u16>(load<u16>(out + L.REC_OFF_STR_OFF + (index << 1)) - <u16>stringsFrom);
    slotLen[s] = load<u16>(out + L.REC_OFF_STR_LEN + (index << 1));
    slotState[s] = load<u8>(out + L.REC_OFF_STR_STATE + index);
  }
  memory.copy(block, start, len);
  memory.copy(part, out + PART_AT, PART_LEN);
  memory.copy(strings, out + stringsFrom, added);
  stringsLen = added;
  context = result;
  first = firstOfMap;
  blockLen = len;
}

/** The kept block's record part and strings into the record being built;
 * writeContext()'s result for it. */
export function apply(): i32 {
  const out = Built.out;
  const from = Built.size;
  memory.copy(out + PART_AT, part, PART_LEN);
  memory.copy(out + from, strings, stringsLen);
  // The cgroup's slot, and those of the ancestors the block had (the others stay empty).
  const n = 1 + <i32>load<u8>(out + L.REC_OFF_ANCESTOR_COUNT);
  for (let s = 0; s < n; s++) {
    const index = slotOf(s);
    store<u16>(out + L.REC_OFF_STR_OFF + (index << 1), <u16>from + slotAt[s]);
    store<u16>(out + L.REC_OFF_STR_LEN + (index << 1), slotLen[s]);
    store<u8>(out + L.REC_OFF_STR_STATE + index, slotState[s]);
  }
  Built.size += stringsLen;
  return context;
}
