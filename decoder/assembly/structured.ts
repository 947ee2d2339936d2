// One emitter for the two structured formats, so JSON and CBOR cannot
// disagree on keys, order or values: the event walker calls these, and only
// the encoding differs. CBOR wants every map's and array's size in its head:
// this counts the keys and items as they are written and fills the head in
// at the end (sizes by construction: nobody keeps a count by hand); JSON
// wants commas, which this tracks. The row format is JSON whose values
// row.ts notes as they are written.
import * as out from "./output";
import * as P from "./pieces";
import * as utf8 from "./utf8";
import * as row from "./row";

import { JSON } from "./formats";

export let format: u32 = JSON;

const MAX_DEPTH = 16;
// JSON: does the container at this depth need a comma before its next item?
const needComma = new StaticArray<bool>(MAX_DEPTH);
// CBOR: where the container at this depth has its head, how many bytes the
// head took when it was reserved, whether it is an array, and its entries so far.
const headAt = new StaticArray<usize>(MAX_DEPTH);
const headBytes = new StaticArray<u8>(MAX_DEPTH);
const isArray = new StaticArray<bool>(MAX_DEPTH);
const entries = new StaticArray<u32>(MAX_DEPTH);
let depth = 0;
let afterKey = false;

export function begin(f: u32): void {
  format = f;
  depth = 0;
  afterKey = false;
  unchecked((isArray[0] = false)); // the top level: no container to count in
}

/** CBOR: a container opens here; its head is written when it closes. A map
 * that will hold 24 entries or more (the event itself) reserves two bytes,
 * which is what its head then takes; a wrong guess costs a move, not a
 * wrong size. No reserve() here: decode() reserves a record's worst case,
 * whose slack covers a head's growth. */
// @ts-ignore: decorator
@inline function openCbor(array: bool, wide: bool): void {
  depth++;
  unchecked((headAt[depth] = out.length));
  unchecked((headBytes[depth] = wide ? 2 : 1));
  unchecked((isArray[depth] = array));
  unchecked((entries[depth] = 0));
  out.byte(0);
  if (wide) out.byte(0);
}

function closeCbor(): void {
  const n = unchecked(entries[depth]);
  const need: usize = n < 24 ? 1 : n < 0x100 ? 2 : 3;
  const had = <usize>unchecked(headBytes[depth]);
  const head = out.outputBase() + unchecked(headAt[depth]);
  if (need != had) {
    memory.copy(head + need, head + had, out.length - headAt[depth] - had);
    out.setLength(out.length + need - had);
  }
  const major: u32 = unchecked(isArray[depth]) ? 0x80 : 0xa0;
  if (need == 1) store<u8>(head, major | n);
  else if (need == 2) {
    store<u8>(head, major | 24);
    store<u8>(head + 1, n);
  } else {
    store<u8>(head, major | 25);
    store<u16>(head + 1, bswap<u16>(<u16>n));
  }
  depth--;
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

/** Before a value: in CBOR, an array counts it as an item; in JSON, the
 * separator (none after a key, a comma between items). */
function beforeValue(): void {
  if (format != JSON) {
    if (unchecked(isArray[depth])) unchecked(entries[depth]++);
    return;
  }
  if (afterKey) {
    afterKey = false;
    return;
  }
  if (depth > 0) {
    if (needComma[depth]) out.byte(0x2c);
    needComma[depth] = true;
  }
}

/** A map; wide: it will hold 24 entries or more (see openCbor()). */
export function beginMap(wide: bool = false): void {
  beforeValue();
  if (format == JSON) {
    out.byte(0x7b);
    needComma[++depth] = false;
    if (row.noting) row.enterMap(depth);
  } else openCbor(false, wide);
}

export function endMap(): void {
  if (format == JSON) {
    if (row.noting) row.beforeClose(depth);
    out.byte(0x7d);
    depth--;
  } else closeCbor();
}

export function beginArray(): void {
  beforeValue();
  if (format == JSON) {
    out.byte(0x5b);
    needComma[++depth] = false;
    if (row.noting) row.enterArray(depth);
  } else openCbor(true, false);
}

export function endArray(): void {
  if (format == JSON) {
    out.byte(0x5d);
    depth--;
  } else closeCbor();
}

export function key(k: P.Piece): void {
  if (format == JSON) {
    if (row.noting) row.beforeKey(depth);
    if (needComma[depth]) out.byte(0x2c);
    needComma[depth] = true;
    out.shortRun(P.jsonBytes(k), P.jsonLength(k));
    afterKey = true;
    if (row.noting) row.afterKey(depth, k);
  } else {
    unchecked(entries[depth]++);
    out.shortRun(P.cborBytes(k), P.cborLength(k));
  }
}

/** A fixed text value (pieces.ts). */
export function textPiece(v: P.Piece): void {
  beforeValue();
  if (format == JSON) out.shortRun(P.jsonBytes(v), P.jsonLength(v));
  else out.shortRun(P.cborBytes(v), P.cborLength(v));
}

/** An argument's map up to its value (P.arg()); endMap() closes it. */
export function beginArg(a: P.Piece): void {
  beforeValue();
  if (format == JSON) {
    out.shortRun(P.jsonBytes(a), P.jsonLength(a));
    needComma[++depth] = true;
    afterKey = true;
    if (row.noting) row.enterArg(depth, a);
  } else {
    // The piece starts with the map's head byte, then its first keys.
    openCbor(false, false);
    out.setLength(out.length - 1);
    out.shortRun(P.cborBytes(a), P.cborLength(a));
    entries[depth] = P.ARG_KEYS;
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
