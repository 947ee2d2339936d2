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

/** True when the n bytes at p are valid UTF-8. */
export function isValid(p: usize, n: i32): bool {
  for (let i = 0; i < n; ) {
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

/** UTF-8 with U+FFFD for invalid subparts (CBOR text strings). */
export function writeSanitized(p: usize, n: i32): void {
  for (let i = 0; i < n; ) {
    const len = sequenceAt(p + i, n - i);
    if (len == 0) {
      replacement();
      i += invalidRun;
    } else {
      out.bytes(p + i, len);
      i += len;
    }
  }
}

/** The inside of a JSON string literal. */
export function writeJson(p: usize, n: i32): void {
  for (let i = 0; i < n; ) {
    const len = sequenceAt(p + i, n - i);
    if (len == 0) {
      replacement();
      i += invalidRun;
      continue;
    }
    if (len == 1) {
      const b = <u32>load<u8>(p + i);
      if (b == 0x22 || b == 0x5c) {
        out.byte(0x5c);
        out.byte(b);
      } else if (b < 0x20) {
        out.ascii("\\u00");
        out.hexByte(b);
      } else out.byte(b);
    } else out.bytes(p + i, len);
    i += len;
  }
}

/** For a terminal: printable UTF-8 kept, everything else as \xNN. */
export function writeEscaped(p: usize, n: i32): void {
  for (let i = 0; i < n; ) {
    const len = sequenceAt(p + i, n - i);
    const b = <u32>load<u8>(p + i);
    // Invalid bytes, C0 and C1 controls, DEL: escaped byte by byte.
    const c1 = len == 2 && b == 0xc2 && <u32>load<u8>(p + i + 1) < 0xa0;
    if (len == 0 || c1 || (len == 1 && (b < 0x20 || b == 0x7f))) {
      const run = len == 0 ? invalidRun : len;
      for (let k = 0; k < run; k++) {
        out.ascii("\\x");
        out.hexByte(load<u8>(p + i + k));
      }
      i += run;
      continue;
    }
    if (len == 1 && (b == 0x22 || b == 0x5c)) out.byte(0x5c);
    out.bytes(p + i, len);
    i += len;
  }
}
