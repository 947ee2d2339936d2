// The output buffer in linear memory and the byte-level writes into it.
// Callers reserve the worst case for a whole record once (reserve), then
// write without bounds checks.

let base: usize = 0;
let capacity: usize = 0;
export let length: usize = 0;

export function outputBase(): usize {
  return base;
}

export function reset(): void {
  length = 0;
}

/** Moves the end of what is written: back over bytes to be rewritten, or on
 * over bytes written in place (within what reserve() gave). */
export function setLength(n: usize): void {
  length = n;
}

export function reserve(bytes: usize): void {
  if (length + bytes <= capacity) return;
  let next: usize = capacity < 65536 ? 65536 : capacity << 1;
  while (next < length + bytes) next <<= 1;
  base = base ? heap.realloc(base, next) : heap.alloc(next);
  capacity = next;
}

// @ts-ignore: decorator
@inline export function byte(b: u32): void {
  store<u8>(base + length, b);
  length += 1;
}

// @ts-ignore: decorator
@inline export function store16(v: u16): void {
  store<u16>(base + length, v);
  length += 2;
}

// @ts-ignore: decorator
@inline export function store32(v: u32): void {
  store<u32>(base + length, v);
  length += 4;
}

// @ts-ignore: decorator
@inline export function store64(v: u64): void {
  store<u64>(base + length, v);
  length += 8;
}

/** n bytes from src, eight at a time: for short runs whose source may be
 * read a little past its end (pieces.ts leaves room). */
export function shortRun(src: usize, n: usize): void {
  const dst = base + length;
  for (let i: usize = 0; i < n; i += 8) store<u64>(dst + i, load<u64>(src + i));
  length += n;
}

export function bytes(src: usize, n: usize): void {
  memory.copy(base + length, src, n);
  length += n;
}

/** An ASCII string literal (keys, names): AssemblyScript strings are UTF-16,
 * narrowed here four characters at a time (every event writes hundreds). */
export function ascii(s: string): void {
  const p = changetype<usize>(s);
  const n = <usize>s.length;
  const dst = base + length;
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const v = load<u64>(p + (i << 1));
    store<u32>(dst + i, <u32>(v & 0xff) | <u32>((v >> 8) & 0xff00) | <u32>((v >> 16) & 0xff0000) | <u32>((v >> 24) & 0xff000000));
  }
  for (; i < n; i++) store<u8>(dst + i, load<u16>(p + (i << 1)));
  length += n;
}

export function spaces(n: i32): void {
  for (let i = 0; i < n; i++) byte(0x20);
}

// "00" to "99": decimal() writes two digits per division.
const DIGIT_PAIRS = memory.data<u8>([
  48,48,48,49,48,50,48,51,48,52,48,53,48,54,48,55,48,56,48,57,49,48,49,49,49,50,49,51,49,52,49,53,49,54,49,55,49,56,49,57,
  50,48,50,49,50,50,50,51,50,52,50,53,50,54,50,55,50,56,50,57,51,48,51,49,51,50,51,51,51,52,51,53,51,54,51,55,51,56,51,57,
  52,48,52,49,52,50,52,51,52,52,52,53,52,54,52,55,52,56,52,57,53,48,53,49,53,50,53,51,53,52,53,53,53,54,53,55,53,56,53,57,
  54,48,54,49,54,50,54,51,54,52,54,53,54,54,54,55,54,56,54,57,55,48,55,49,55,50,55,51,55,52,55,53,55,54,55,55,55,56,55,57,
  56,48,56,49,56,50,56,51,56,52,56,53,56,54,56,55,56,56,56,57,57,48,57,49,57,50,57,51,57,52,57,53,57,54,57,55,57,56,57,57,
]);

/** The digits of v ending at p (exclusive), in 32-bit arithmetic, two per
 * division; returns where they start. */
function digits32(v: u32, p: usize): usize {
  while (v >= 100) {
    const q = v / 100;
    p -= 2;
    store<u16>(p, load<u16>(DIGIT_PAIRS + ((v - q * 100) << 1)));
    v = q;
  }
  if (v >= 10) {
    p -= 2;
    store<u16>(p, load<u16>(DIGIT_PAIRS + (v << 1)));
  } else store<u8>(--p, v + 0x30);
  return p;
}

/** Exactly eight digits of v < 10^8, zero-padded, ending at p. */
function eightDigits(v: u32, p: usize): usize {
  const start = p - 8;
  for (p = digits32(v, p); p > start; ) store<u8>(--p, 0x30);
  return start;
}

/** Decimal digits: 64-bit timestamps and ids are split into 8-digit chunks,
 * so only one or two 64-bit divisions remain (JSON writes dozens a record). */
export function decimal(v: u64): void {
  const n = decimalWidth(v);
  const end = base + length + n;
  if (v < 100000000) digits32(<u32>v, end);
  else {
    let hi = v / 100000000;
    let p = eightDigits(<u32>(v - hi * 100000000), end);
    if (hi >= 100000000) {
      const top = hi / 100000000;
      p = eightDigits(<u32>(hi - top * 100000000), p);
      hi = top;
    }
    digits32(<u32>hi, p);
  }
  length += n;
}

export function signedDecimal(v: i64): void {
  if (v < 0) {
    byte(0x2d);
    decimal(<u64>(-(v + 1)) + 1);
  } else decimal(<u64>v);
}

/** Number of bytes decimal() writes for v. */
export function decimalWidth(v: u64): i32 {
  let digits = 1;
  let power: u64 = 10;
  while (digits < 20 && v >= power) {
    digits++;
    power *= 10;
  }
  return digits;
}

const HEX = "0123456789abcdef";

export function hexByte(b: u32): void {
  byte(HEX.charCodeAt(b >> 4));
  byte(HEX.charCodeAt(b & 15));
}

export function hexBytes(src: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) hexByte(load<u8>(src + i));
}

export function hex(v: u64): void {
  ascii("0x");
  let shift = 60;
  while (shift > 0 && ((v >> <u64>shift) & 15) == 0) shift -= 4;
  for (; shift >= 0; shift -= 4) byte(HEX.charCodeAt(<i32>((v >> <u64>shift) & 15)));
}
