// Reading back the CBOR modtrace wrote (rebuild.ts): item heads, text, and
// whole values skipped. Only the shapes the log reader's own decoder takes
// (log/item-decoder.ts: definite lengths, text keys, integers, strings,
// false, true, null) and only ASCII text: anything else sets `failed`, and
// the TypeScript side, whose judgement of a log item is the one that counts,
// reads that item instead. `short`: the item runs past the bytes given.

export let failed = false;
export let short = false;
let p: usize = 0;
let end: usize = 0;

/** The last head read: its major type, its argument, its additional information. */
export let major: u32 = 0;
export let arg: u64 = 0;
export let info: u32 = 0;

// Past these a value is no event's (and the reader's decoder's limit is 65536).
const MAX_ENTRIES: u64 = 64;
const MAX_TEXT: u64 = 65536;
const MAX_DEPTH: i32 = 8;

export function start(at: usize, len: usize): void {
  p = at;
  end = at + len;
  failed = false;
  short = false;
}

// @ts-ignore: decorator
@inline export function pos(): usize {
  return p;
}

export function seek(at: usize): void {
  p = at;
}

// @ts-ignore: decorator
@inline export function bad(): bool {
  return failed || short;
}

/** Reads the head at the cursor; false when it cannot (failed or short set). */
export function head(): bool {
  if (p >= end) {
    short = true;
    return false;
  }
  const b = <u32>load<u8>(p++);
  major = b >> 5;
  info = b & 31;
  if (info < 24) arg = info;
  else {
    let n: usize = 0;
    if (info == 24) n = 1;
    else if (info == 25) n = 2;
    else if (info == 26) n = 4;
    else if (info == 27) n = 8;
    else {
      failed = true; // indefinite lengths, reserved values
      return false;
    }
    if (p + n > end) {
      short = true;
      return false;
    }
    let v: u64 = 0;
    for (let i: usize = 0; i < n; i++) v = (v << 8) | <u64>load<u8>(p + i);
    p += n;
    arg = v;
  }
  // Of the simple values, false, true and null; no floats, no undefined, no tags.
  if ((major == 7 && (info < 20 || info > 22)) || major == 6) {
    failed = true;
    return false;
  }
  return true;
}

/** After a text or byte string head: its bytes' address, the cursor past them; 0 when bad. */
function stringBytes(ascii: bool): usize {
  if (arg > MAX_TEXT) {
    failed = true;
    return 0;
  }
  const n = <usize>arg;
  if (p + n > end) {
    short = true;
    return 0;
  }
  const at = p;
  if (ascii && !isAscii(at, n)) {
    failed = true;
    return 0;
  }
  p += n;
  return at;
}

/** Whether the n bytes at at are all below 0x80: eight at a time. */
function isAscii(at: usize, n: usize): bool {
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(at + i) & 0x8080808080808080) return false;
  for (; i < n; i++) if (load<u8>(at + i) >= 0x80) return false;
  return true;
}

/** After a head: the count of a map's or an array's entries, checked. */
export function entries(): i32 {
  if (arg > MAX_ENTRIES) {
    failed = true;
    return -1;
  }
  return <i32>arg;
}

/** The text at the cursor: its address (its length in `arg`), or 0 when the value is not text. */
export function text(): usize {
  if (!head()) return 0;
  if (major != 3) {
    failed = true;
    return 0;
  }
  return stringBytes(true);
}

/** After a head of major type 2: the byte string's address. */
export function bytesAfterHead(): usize {
  return stringBytes(false);
}

/** After a head of major type 3: the text's address (ASCII only). */
export function textAfterHead(): usize {
  return stringBytes(true);
}

/** Skips one value whole, checking it is of the shapes above. */
export function skip(depth: i32 = 0): void {
  if (depth > MAX_DEPTH) {
    failed = true;
    return;
  }
  if (!head()) return;
  if (major == 2) stringBytes(false);
  else if (major == 3) stringBytes(true);
  else if (major == 4) {
    const n = entries();
    for (let i = 0; i < n && !bad(); i++) skip(depth + 1);
  } else if (major == 5) {
    const n = entries();
    for (let i = 0; i < n && !bad(); i++) {
      text(); // keys are text
      if (!bad()) skip(depth + 1);
    }
  }
}

/** The array at pos of at most max items: where each item starts (into
 * starts) and how many there are; -1 when it is no such array. */
export function items(pos: usize, max: u64, starts: StaticArray<usize>): i32 {
  p = pos;
  if (!head() || major != 4 || arg > max || arg > <u64>starts.length) return -1;
  const n = <i32>arg;
  for (let i = 0; i < n; i++) {
    starts[i] = p;
    skip();
    if (bad()) return -1;
  }
  return n;
}

/** Whether the bytes at the cursor are the CBOR of piece (pieces.ts: a key,
 * a text value); if so the cursor moves past them. */
export function takes(piece: usize): bool {
  const n = <usize>load<u8>(piece);
  if (p + n > end) return false;
  // Eight bytes at a time: keys are a dozen bytes, and most compare equal.
  const want = piece + 4;
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(p + i) != load<u64>(want + i)) return false;
  for (; i < n; i++) if (load<u8>(p + i) != load<u8>(want + i)) return false;
  p += n;
  return true;
}

/** Whether the n bytes at at spell s (ASCII). */
export function spells(at: usize, n: usize, s: string): bool {
  if (<usize>s.length != n) return false;
  for (let i: usize = 0; i < n; i++) if (<u32>load<u8>(at + i) != <u32>s.charCodeAt(<i32>i)) return false;
  return true;
}
