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

export function bytes(src: usize, n: usize): void {
  memory.copy(base + length, src, n);
  length += n;
}

/** An ASCII string literal (keys, names): AssemblyScript strings are UTF-16. */
export function ascii(s: string): void {
  const p = changetype<usize>(s);
  const n = <usize>s.length;
  const dst = base + length;
  for (let i: usize = 0; i < n; i++) store<u8>(dst + i, load<u16>(p + (i << 1)));
  length += n;
}

export function spaces(n: i32): void {
  for (let i = 0; i < n; i++) byte(0x20);
}

export function decimal(v: u64): void {
  if (v == 0) {
    byte(0x30);
    return;
  }
  let digits = 0;
  for (let t = v; t > 0; t /= 10) digits++;
  let p = base + length + digits;
  for (let t = v; t > 0; t /= 10) store<u8>(--p, <u32>(t % 10) + 0x30);
  length += digits;
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
  for (let t = v / 10; t > 0; t /= 10) digits++;
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
