// Bytes from the kernel or from user memory are not always UTF-8. Every
// output stays well formed: CBOR text strings and JSON get U+FFFD for each
// maximal invalid subpart (the WHATWG rule, as JavaScript's TextDecoder
// does), text output gets \xNN escapes; the exact bytes travel beside them.
import * as out from "./output";

/** Length of the valid UTF-8 sequence at p (at most `left` bytes), or 0 with
 * `invalidRun` set to how many bytes form the maximal invalid subpart. */
export let invalidRun: i32 = 0;

export function sequenceAt(p: usize, left: i32): i32 {
  const b = <u32>load<u8>(p);
  if (b < 0x80) return 1;
  let need = 0;
  let lo: u32 = 0x80;
  let hi: u32 = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else {
    invalidRun = 1;
    return 0;
  }
  for (let k = 1; k <= need; k++) {
    if (k >= left) {
      invalidRun = k;
      return 0;
    }
    const c = <u32>load<u8>(p + k);
    if (c < lo || c > hi) {
      invalidRun = k;
      return 0;
    }
    lo = 0x80;
    hi = 0xbf;
  }
  return need + 1;
}

/** How many bytes at p (at most n) are ASCII, tested eight at a time: most
 * strings are all ASCII, and byte-by-byte validation was the decoder's
 * largest cost. */
export function asciiRun(p: usize, n: i32): i32 {
  let i = 0;
  while (i + 8 <= n && (load<u64>(p + <usize>i) & 0x8080808080808080) == 0) i += 8;
  while (i < n && load<u8>(p + <usize>i) < 0x80) i++;
  return i;
}

/** True when the n bytes at p are valid UTF-8. */
export function isValid(p: usize, n: i32): bool {
  for (let i = asciiRun(p, n); i < n; i += asciiRun(p + i, n - i)) {
    const len = sequenceAt(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

/** Bytes the UTF-8 text takes once each invalid subpart is U+FFFD (3 bytes). */
export function sanitizedLength(p: usize, n: i32): i32 {
  let total = 0;
  for (let i = 0; i < n; ) {
    const ascii = asciiRun(p + i, n - i);
    total += ascii;
    i += ascii;
    if (i >= n) break;
    const len = sequenceAt(p + i, n - i);
    if (len == 0) {
      total += 3;
      i += invalidRun;
    } else {
      total += len;
      i += len;
    }
  }
  return total;
}

function replacement(): void {
  out.byte(0xef);
  out.byte(0xbf);
  out.byte(0xbd);
}

/** UTF-8 with U+FFFD for invalid subparts (CBOR text strings); valid runs are
 * copied whole. */
export function writeSanitized(p: usize, n: i32): void {
  let start = 0;
  for (let i = 0; i < n; ) {
    i += asciiRun(p + i, n - i);
    if (i >= n) break;
    const len = sequenceAt(p + i, n - i);
    if (len == 0) {
      out.bytes(p + start, i - start);
      replacement();
      i += invalidRun;
      start = i;
    } else i += len;
  }
  out.bytes(p + start, n - start);
}

/** The inside of a JSON string literal. Runs that need no escape are copied whole. */
export function writeJson(p: usize, n: i32): void {
  let start = 0;
  for (let i = 0; i < n; ) {
    const b = <u32>load<u8>(p + i);
    if (b >= 0x20 && b < 0x80 && b != 0x22 && b != 0x5c) {
      i++;
      continue;
    }
    const len = b < 0x80 ? 1 : sequenceAt(p + i, n - i);
    if (len > 1) {
      i += len;
      continue;
    }
    out.bytes(p + start, i - start);
    if (len == 0) {
      replacement();
      i += invalidRun;
    } else {
      if (b == 0x22 || b == 0x5c) {
        out.byte(0x5c);
        out.byte(b);
      } else {
        out.ascii("\\u00");
        out.hexByte(b);
      }
      i++;
    }
    start = i;
  }
  out.bytes(p + start, n - start);
}

/** Is the valid sequence of len bytes at p a character that reorders or
 * breaks a terminal's line: a bidi control (U+061C, U+200E/F, U+202A-E,
 * U+2066-9) or a line or paragraph separator (U+2028/9)? Text that shows
 * a caller's strings must not let them reverse or split what follows. The
 * TypeScript side's escapeText (output/text-escape.ts) escapes the same set. */
function isLayoutControl(p: usize, len: i32): bool {
  const b0 = <u32>load<u8>(p);
  if (len == 2) return b0 == 0xd8 && <u32>load<u8>(p + 1) == 0x9c;
  if (len != 3 || b0 != 0xe2) return false;
  const b1 = <u32>load<u8>(p + 1);
  const b2 = <u32>load<u8>(p + 2);
  if (b1 == 0x80) return b2 == 0x8e || b2 == 0x8f || (b2 >= 0xa8 && b2 <= 0xae);
  return b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9;
}

/** For a terminal: printable UTF-8 kept, everything else as \xNN. Runs that
 * need no escape are copied whole. */
export function writeEscaped(p: usize, n: i32): void {
  let start = 0;
  for (let i = 0; i < n; ) {
    const b = <u32>load<u8>(p + i);
    if (b >= 0x20 && b < 0x7f && b != 0x22 && b != 0x5c) {
      i++;
      continue;
    }
    const len = b < 0x80 ? 1 : sequenceAt(p + i, n - i);
    // Invalid bytes, C0 and C1 controls, DEL, bidi controls and line
    // separators: escaped byte by byte.
    const c1 = len == 2 && b == 0xc2 && <u32>load<u8>(p + i + 1) < 0xa0;
    if (len > 1 && !c1 && !isLayoutControl(p + i, len)) {
      i += len;
      continue;
    }
    out.bytes(p + start, i - start);
    if (len == 1 && (b == 0x22 || b == 0x5c)) {
      out.byte(0x5c);
      out.byte(b);
      i++;
    } else {
      const run = len == 0 ? invalidRun : len;
      for (let k = 0; k < run; k++) {
        out.ascii("\\x");
        out.hexByte(load<u8>(p + i + k));
      }
      i += run;
    }
    start = i;
  }
  out.bytes(p + start, n - start);
}
