// The rebuild's interface (index.ts exports it): a log's event maps, in
// CBOR, back into records (rebuild.ts), a run at a time.
import * as L from "./generated/layout";
import { rebuild } from "./rebuild";
import { Built } from "./rebuild-values";

// The reader mirrors its window of the log here, and asks for the items from an offset.
let mirror: usize = 0;
let mirrorCapacity: u32 = 0;

export function mirrorPtr(capacity: u32): usize {
  if (capacity > mirrorCapacity) {
    mirror = heap.alloc(capacity);
    mirrorCapacity = capacity;
  }
  return mirror;
}

// The items from an offset of the mirror on, as many as rebuild() takes in a
// row (one call for a run of events, not one each): their records one after
// another at batchPtr(), where each item began (from the first) at
// batchStartsPtr().
let batch: usize = 0;
let batchStarts: usize = 0;
let batchCapacity: u32 = 0;
let batchUsed: u32 = 0;
let batchBytes: u32 = 0;

/** Rebuilds at most maxRecords items from offset at (len bytes there), up to
 * the first the rebuild leaves to TypeScript; how many it rebuilt. */
export function rebuildRun(at: u32, len: u32, maxRecords: u32): u32 {
  if (<u64>at + <u64>len > <u64>mirrorCapacity) return 0;
  if (maxRecords > batchCapacity) {
    batch = heap.alloc(<usize>maxRecords * L.RECORD_MAX);
    batchStarts = heap.alloc(<usize>maxRecords << 2);
    batchCapacity = maxRecords;
  }
  const start = mirror + at;
  const end = start + len;
  let pos = start;
  let out = batch;
  let n: u32 = 0;
  while (n < maxRecords && pos < end) {
    Built.out = out;
    const length = rebuild(pos, end - pos);
    if (length < 0) break;
    store<u32>(batchStarts + (<usize>n << 2), <u32>(pos - start));
    out += load<u32>(out + L.REC_OFF_SIZE);
    pos += length;
    n++;
  }
  batchUsed = <u32>(pos - start);
  batchBytes = <u32>(out - batch);
  return n;
}

export function batchPtr(): usize {
  return batch;
}

export function batchStartsPtr(): usize {
  return batchStarts;
}

/** The mirror's bytes the last run took. */
export function batchConsumed(): u32 {
  return batchUsed;
}

/** The bytes of its records. */
export function batchLength(): u32 {
  return batchBytes;
}
