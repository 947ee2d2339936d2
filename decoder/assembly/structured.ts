// One emitter for the two structured formats, so JSON and CBOR cannot
// disagree on keys, order or values: the event walker calls these, and only
// the encoding differs. CBOR needs every map and array's size up front, which
// the walker knows; JSON needs commas, which this tracks.
import * as out from "./output";
import * as P from "./pieces";
import * as utf8 from "./utf8";

import { JSON } from "./formats";

export let format: u32 = JSON;

// JSON: does the container at this depth need a comma before its next item?
const needComma = new StaticArray<bool>(16);
let depth = 0;
let afterKey = false;

export function begin(f: u32): void {
  format = f;
  depth = 0;
  afterKey = false;
}

/** A CBOR head: major type and argument, the argument big-endian in one store. */
function cborHead(major: u32, v: u64): void {
  const m = major << 5;
  if (v < 24) out.byte(m | <u32>v);
  else if (v < 0x100) {
    out.byte(m | 24);
    out.byte(<u32>v);
  } else if (v < 0x10000) {
    out.byte(m | 25);
    out.store16(bswap<u16>(<u16>v));
  } else if (v < 0x100000000) {
    out.byte(m | 26);
    out.store32(bswap<u32>(<u32>v));
  } else {
    out.byte(m | 27);
    out.store64(bswap<u64>(v));
  }
}

/** JSON's separator before a value: none after a key, a comma between items. */
function beforeValue(): void {
  if (format != JSON) return;
  if (afterKey) {
    afterKey = false;
    return;
  }
  if (depth > 0) {
    if (needComma[depth]) out.byte(0x2c);
    needComma[depth] = true;
  }
}

export function beginMap(entries: i32): void {
  beforeValue();
  if (format == JSON) {
    out.byte(0x7b);
    needComma[++depth] = false;
  } else cborHead(5, entries);
}

export function endMap(): void {
  if (format == JSON) {
    out.byte(0x7d);
    depth--;
  }
}

export function beginArray(items: i32): void {
  beforeValue();
  if (format == JSON) {
    out.byte(0x5b);
    needComma[++depth] = false;
  } else cborHead(4, items);
}

export function endArray(): void {
  if (format == JSON) {
    out.byte(0x5d);
    depth--;
  }
}

export function key(k: P.Piece): void {
  if (format == JSON) {
    if (needComma[depth]) out.byte(0x2c);
    needComma[depth] = true;
    out.shortRun(P.jsonBytes(k), P.jsonLength(k));
    afterKey = true;
  } else out.shortRun(P.cborBytes(k), P.cborLength(k));
}

/** A fixed text value (pieces.ts). */
export function textPiece(v: P.Piece): void {
  beforeValue();
  if (format == JSON) out.shortRun(P.jsonBytes(v), P.jsonLength(v));
  else out.shortRun(P.cborBytes(v), P.cborLength(v));
}

/** An argument's map, of `entries` entries, up to its value (P.arg()). */
export function beginArg(a: P.Piece, entries: i32): void {
  beforeValue();
  if (format == JSON) {
    out.shortRun(P.jsonBytes(a), P.jsonLength(a));
    needComma[++depth] = true;
    afterKey = true;
  } else {
    const head = out.length;
    out.shortRun(P.cborBytes(a), P.cborLength(a));
    store<u8>(out.outputBase() + head, 0xa0 | entries);
  }
}

export function uint(v: u64): void {
  beforeValue();
  if (format == JSON) out.decimal(v);
  else cborHead(0, v);
}

export function int(v: i64): void {
  if (v >= 0) return uint(<u64>v);
  beforeValue();
  if (format == JSON) out.signedDecimal(v);
  else cborHead(1, <u64>(-(v + 1)));
}

export function boolean(v: bool): void {
  beforeValue();
  if (format == JSON) out.ascii(v ? "true" : "false");
  else out.byte(v ? 0xf5 : 0xf4);
}

export function nil(): void {
  beforeValue();
  if (format == JSON) out.ascii("null");
  else out.byte(0xf6);
}

/** Bytes as a text string, made valid UTF-8. */
export function textBytes(p: usize, n: i32): void {
  beforeValue();
  if (format == JSON) {
    out.byte(0x22);
    utf8.writeJson(p, n);
    out.byte(0x22);
  } else if (utf8.isValid(p, n)) {
    cborHead(3, n);
    out.bytes(p, n);
  } else {
    cborHead(3, utf8.sanitizedLength(p, n));
    utf8.writeSanitized(p, n);
  }
}

/** Exact bytes: a CBOR byte string; in JSON, lowercase hex. */
export function rawBytes(p: usize, n: i32): void {
  beforeValue();
  if (format == JSON) {
    out.byte(0x22);
    out.hexBytes(p, n);
    out.byte(0x22);
  } else {
    cborHead(2, n);
    out.bytes(p, n);
  }
}

/** Start of a text string whose bytes the caller writes (ASCII, known length). */
export function beginText(bytes: i32): void {
  beforeValue();
  if (format == JSON) out.byte(0x22);
  else cborHead(3, bytes);
}

export function endText(): void {
  if (format == JSON) out.byte(0x22);
}
