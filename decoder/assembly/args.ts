// Each event's arguments, written once for every format: the structured
// formats get {name, type, value, …} maps, text gets "name: value". Which
// arguments an event has, and how each is written, is the event catalogue's
// (catalogue/events.ts, generated into ./generated/catalogue): one function
// here per format.
import * as C from "./generated/catalogue";
import * as L from "./generated/layout";
import * as N from "./generated/names";
import * as out from "./output";
import * as s from "./structured";
import * as utf8 from "./utf8";
import { strLen, strPtr, strState, u32At, u64At } from "./record";
import { TAINT_BITS, TAINT_NAMES } from "./generated/catalogue";
import * as K from "./keys";
import * as P from "./pieces";
import { TEXT } from "./formats";
import { eventIndex } from "./events";

// Each argument's name and type, as Tracee gives them, by catalogue index.
const ARG_PIECES = new StaticArray<P.Piece>(C.ARG_NAMES.length);
for (let i = 0; i < ARG_PIECES.length; i++) ARG_PIECES[i] = P.arg(C.ARG_NAMES[i], C.ARG_TYPES[i]);

let mode: u32 = TEXT;
let first = true;

export function begin(m: u32): void {
  mode = m;
  first = true;
}

function start(a: P.Piece): void {
  if (mode == TEXT) {
    if (!first) out.ascii(", ");
    first = false;
    out.shortRun(P.textBytes(a), P.textLength(a));
    return;
  }
  s.beginArg(a);
}

function argUint(a: P.Piece, v: u64): void {
  start(a);
  if (mode == TEXT) out.decimal(v);
  else {
    s.uint(v);
    s.endMap();
  }
}

function argInt(a: P.Piece, v: i64): void {
  start(a);
  if (mode == TEXT) out.signedDecimal(v);
  else {
    s.int(v);
    s.endMap();
  }
}

function argBool(a: P.Piece, v: bool): void {
  start(a);
  if (mode == TEXT) out.ascii(v ? "true" : "false");
  else {
    s.boolean(v);
    s.endMap();
  }
}

/** A bool the kernel may not have (sig_ok without CONFIG_MODULE_SIG): null then. */
function argMaybeBool(a: P.Piece, known: bool, v: bool): void {
  if (known) return argBool(a, v);
  start(a);
  if (mode == TEXT) out.ascii("<none>");
  else {
    s.nil();
    s.endMap();
  }
}

function argPointer(a: P.Piece, v: u64): void {
  start(a);
  if (mode == TEXT) out.hex(v);
  else {
    s.uint(v);
    s.endMap();
  }
}

function flagsLength(v: u64, bits: StaticArray<u64>, names: StaticArray<string>): i32 {
  if (v == 0) return 1;
  let n = 0;
  let rest = v;
  for (let i = 0; i < bits.length; i++) {
    if ((v & bits[i]) == 0) continue;
    n += (n ? 1 : 0) + names[i].length;
    rest &= ~bits[i];
  }
  if (rest) {
    let digits = 1;
    for (let t = rest >> 4; t; t >>= 4) digits++;
    n += (n ? 1 : 0) + 2 + digits;
  }
  return n;
}

function writeFlagNames(v: u64, bits: StaticArray<u64>, names: StaticArray<string>): void {
  if (v == 0) {
    out.byte(0x30);
    return;
  }
  let sep = false;
  let rest = v;
  for (let i = 0; i < bits.length; i++) {
    if ((v & bits[i]) == 0) continue;
    if (sep) out.byte(0x7c);
    out.ascii(names[i]);
    sep = true;
    rest &= ~bits[i];
  }
  if (rest) {
    if (sep) out.byte(0x7c);
    out.hex(rest);
  }
}

function argFlags(a: P.Piece, v: u64, bits: StaticArray<u64>, names: StaticArray<string>): void {
  start(a);
  if (mode == TEXT) {
    writeFlagNames(v, bits, names);
    return;
  }
  s.uint(v);
  s.key(K.DECODED);
  s.beginText(flagsLength(v, bits, names));
  writeFlagNames(v, bits, names);
  s.endText();
  s.endMap();
}

// Kernel dev_t: 12 bits of major above 20 bits of minor (include/linux/kdev_t.h).
function argDev(a: P.Piece, v: u32): void {
  const major = <u64>(v >> 20);
  const minor = <u64>(v & 0xfffff);
  start(a);
  if (mode != TEXT) {
    s.uint(v);
    s.key(K.DECODED);
    s.beginText(out.decimalWidth(major) + 1 + out.decimalWidth(minor));
  }
  out.decimal(major);
  out.byte(0x3a);
  out.decimal(minor);
  if (mode != TEXT) {
    s.endText();
    s.endMap();
  }
}

function readable(state: u32): bool {
  return state == L.STR_OK || state == L.STR_TRUNCATED;
}

/** A string slot's value, then "truncated", "error" or "raw" as they apply. */
export function stringBody(rec: usize, slot: usize): void {
  const state = strState(rec, slot);
  const p = strPtr(rec, slot);
  const n = strLen(rec, slot);
  if (!readable(state)) {
    s.nil();
    if (state == L.STR_FAULT) {
      s.key(K.ERROR);
      s.textPiece(K.UNREADABLE);
    }
    return;
  }
  s.textBytes(p, n);
  if (state == L.STR_TRUNCATED) {
    s.key(K.TRUNCATED);
    s.boolean(true);
  }
  if (!utf8.isValid(p, n)) {
    s.key(K.RAW);
    s.rawBytes(p, n);
  }
}

/** A string slot for a terminal: quoted and escaped, or why it is missing. */
export function stringText(rec: usize, slot: usize): void {
  const state = strState(rec, slot);
  if (!readable(state)) {
    out.ascii(state == L.STR_FAULT ? "<unreadable>" : "<none>");
    return;
  }
  out.byte(0x22);
  utf8.writeEscaped(strPtr(rec, slot), strLen(rec, slot));
  out.byte(0x22);
  if (state == L.STR_TRUNCATED) out.ascii("...");
}

function argString(rec: usize, slot: usize, a: P.Piece): void {
  start(a);
  if (mode == TEXT) {
    stringText(rec, slot);
    return;
  }
  stringBody(rec, slot);
  s.endMap();
}

/** Whether argument i is in this record: most always are, some only with a flag (C.ARG_NEEDS). */
function present(rec: usize, i: i32): bool {
  const needs = C.ARG_NEEDS[i];
  return (u32At(rec, L.REC_OFF_FLAGS) & needs) == needs;
}

export function argCount(rec: usize, event: u32): i32 {
  const e = eventIndex(event);
  let n = 0;
  for (let i = <i32>C.FIRST_ARG[e]; i < <i32>C.FIRST_ARG[e + 1]; i++) if (present(rec, i)) n++;
  return n;
}

function writeArg(rec: usize, i: i32): void {
  const a = ARG_PIECES[i];
  const at = <usize>C.ARG_AT[i];
  switch (C.ARG_FORMATS[i]) {
    case C.FORMAT_POINTER:
      argPointer(a, u64At(rec, at));
      break;
    case C.FORMAT_UINT:
      argUint(a, u64At(rec, at));
      break;
    case C.FORMAT_INT32:
      argInt(a, <i64><i32>u64At(rec, at));
      break;
    case C.FORMAT_BOOL:
      argBool(a, u64At(rec, at) != 0);
      break;
    case C.FORMAT_SIG_OK: {
      const flags = u32At(rec, at);
      argMaybeBool(a, (flags & L.FLAG_SIG_OK_KNOWN) != 0, (flags & L.FLAG_SIG_OK) != 0);
      break;
    }
    case C.FORMAT_STRING:
      argString(rec, at, a);
      break;
    case C.FORMAT_DEV:
      argDev(a, u32At(rec, at));
      break;
    case C.FORMAT_TAINTS:
      argFlags(a, u64At(rec, at), TAINT_BITS, TAINT_NAMES);
      break;
    case C.FORMAT_FINIT_FLAGS:
      argFlags(a, <u64><u32>u64At(rec, at), N.FINIT_FLAG_BITS, N.FINIT_FLAG_NAMES);
      break;
    case C.FORMAT_DELETE_FLAGS:
      argFlags(a, <u64><u32>u64At(rec, at), N.DELETE_FLAG_BITS, N.DELETE_FLAG_NAMES);
      break;
    case C.FORMAT_KEXEC_FLAGS:
      argFlags(a, u64At(rec, at), N.KEXEC_FLAG_BITS, N.KEXEC_FLAG_NAMES);
      break;
    case C.FORMAT_KEXEC_FILE_FLAGS:
      argFlags(a, u64At(rec, at), N.KEXEC_FILE_FLAG_BITS, N.KEXEC_FILE_FLAG_NAMES);
      break;
  }
}

export function writeArgs(rec: usize, event: u32): void {
  const e = eventIndex(event);
  const end = <i32>C.FIRST_ARG[e + 1];
  for (let i = <i32>C.FIRST_ARG[e]; i < end; i++) if (present(rec, i)) writeArg(rec, i);
}
