// The row format: an event as one line of the events table (rows/schema.ts,
// JSONEachRow): every column in the table's order, null where the event has
// no value. The event is written as JSON (structured.ts) while this notes
// where each value lies and whose column it is; the line is then made from
// those bytes after the JSON and moved over it. So a row holds exactly the
// JSON output's values, rendered once, and a field is a column by the one
// rule of rows/schema.ts: a top-level key is its column, a map's entry
// key_entry, an argument its name (its entries name_entry), a list its
// JSON text.
import * as out from "./output";
import * as P from "./pieces";
import { ARGS, ROW_COLUMNS } from "./generated/keys";

const COLUMNS = ROW_COLUMNS.length;
const MAX_DEPTH = 16;

/** How many columns a row's places cover (those after the log header's). */
export function columns(): i32 {
  return COLUMNS;
}

/** Is a row being noted (decode() in the row format)? structured.ts asks. */
export let noting = false;

// Per column: where its value lies in the output, valid for event `serial` only.
const valueStart = new StaticArray<u32>(COLUMNS);
const valueEnd = new StaticArray<u32>(COLUMNS);
const valueSerial = new StaticArray<u32>(COLUMNS);
let serial: u32 = 0;

// What the keys at a depth are under: the event itself, a map's key (its
// entries), an argument's piece, or nothing that has columns (a list).
const UNDER_NONE: u8 = 0;
const UNDER_EVENT: u8 = 1;
const UNDER_MAP: u8 = 2;
const UNDER_ARG: u8 = 3;
const under = new StaticArray<u8>(MAX_DEPTH);
const parent = new StaticArray<usize>(MAX_DEPTH);
// Per depth: the key last written, its value's column (-1: none) and start.
const openKey = new StaticArray<usize>(MAX_DEPTH);
const openColumn = new StaticArray<i32>(MAX_DEPTH);
const openStart = new StaticArray<u32>(MAX_DEPTH);

// `,"column":null` for every column one after another, made once: a run of
// columns without a value is one copy. nullAt[i]: where column i's starts;
// keyLength[i]: the length of its `,"column":`.
let nulls: usize = 0;
const nullAt = new StaticArray<u32>(COLUMNS + 1);
const keyLength = new StaticArray<u32>(COLUMNS);

// Where each row's values lie in the output (when asked: Parquet reads them
// from there): per row, per column, the value's offset and length (0: null).
let spansWanted = false;
let spans: usize = 0;
let spansCapacity: u32 = 0; // rows
let spanRow: u32 = 0;

/** Whether decode() also gives the values' places (spansPtr()), for rows decoded from here on. */
export function wantSpans(on: bool): void {
  spansWanted = on;
}

/** Before a decode(): its rows' places start at the first row again. */
export function resetSpans(): void {
  spanRow = 0;
}

export function spansPtr(): usize {
  return spans;
}

function spanSlot(): usize {
  if (spanRow >= spansCapacity) {
    const rows = spansCapacity ? spansCapacity << 1 : 1024;
    const bytes = <usize>rows * COLUMNS * 8;
    spans = spans ? heap.realloc(spans, bytes) : heap.alloc(bytes);
    spansCapacity = rows;
  }
  return spans + <usize>(spanRow++) * COLUMNS * 8;
}

// The line's start, `{"schemaVersion":…,"bootTime":…`: the log header's columns, from the host.
let prefix: usize = 0;
let prefixCapacity: u32 = 0;
let prefixLength: u32 = 0;

/** Room for the line's start (the host writes it there, then calls setPrefix). */
export function prefixPtr(capacity: u32): usize {
  if (capacity > prefixCapacity) {
    prefix = prefix ? heap.realloc(prefix, capacity) : heap.alloc(capacity);
    prefixCapacity = capacity;
  }
  return prefix;
}

export function setPrefix(length: u32): void {
  prefixLength = length;
}

function makeNulls(): void {
  let bytes: u32 = 0;
  for (let i = 0; i < COLUMNS; i++) bytes += <u32>unchecked(ROW_COLUMNS[i]).length + 8;
  nulls = heap.alloc(bytes);
  let at: u32 = 0;
  for (let i = 0; i < COLUMNS; i++) {
    unchecked((nullAt[i] = at));
    const name = unchecked(ROW_COLUMNS[i]);
    store<u8>(nulls + at++, 0x2c);
    store<u8>(nulls + at++, 0x22);
    for (let c = 0; c < name.length; c++) store<u8>(nulls + at++, <u8>name.charCodeAt(c));
    store<u8>(nulls + at++, 0x22);
    store<u8>(nulls + at++, 0x3a);
    unchecked((keyLength[i] = at - nullAt[i]));
    store<u32>(nulls + at, 0x6c6c756e); // "null"
    at += 4;
  }
  unchecked((nullAt[COLUMNS] = at));
}

/** Before an event: nothing noted yet. */
export function begin(): void {
  if (!nulls) makeNulls();
  noting = true;
  serial++;
  unchecked((under[0] = UNDER_NONE));
  unchecked((openKey[0] = 0)); // the event map's parent: keys under it are named alone
}

// ---- Called by structured.ts as it writes JSON (depth: the container's).

/** A map opened at depth: the event itself, or a map entry of the event. */
export function enterMap(depth: i32): void {
  let u = UNDER_NONE;
  if (depth == 1) u = UNDER_EVENT;
  else if (depth == 2 && unchecked(under[1]) == UNDER_EVENT) u = UNDER_MAP;
  enter(depth, u, unchecked(openKey[depth - 1]));
}

/** An array opened at depth: its items have no keys (the arguments' are maps of their own). */
export function enterArray(depth: i32): void {
  enter(depth, UNDER_NONE, 0);
}

/** An argument's map opened at depth, its value about to be written. */
export function enterArg(depth: i32, arg: P.Piece): void {
  const isArg = depth == 3 && unchecked(under[1]) == UNDER_EVENT && unchecked(openKey[1]) == ARGS;
  enter(depth, isArg ? UNDER_ARG : UNDER_NONE, arg);
  if (isArg) open(depth, 0);
}

function enter(depth: i32, u: u8, p: usize): void {
  unchecked((under[depth] = u));
  unchecked((parent[depth] = p));
  unchecked((openColumn[depth] = -1));
}

/** Where a key at depth is about to be written: the value before it ends here. */
export function beforeKey(depth: i32): void {
  close(depth);
}

/** A key at depth written: its value starts here. */
export function afterKey(depth: i32, k: P.Piece): void {
  unchecked((openKey[depth] = k));
  open(depth, k);
}

/** The container at depth is about to close: its last value ends here. */
export function beforeClose(depth: i32): void {
  close(depth);
}

function open(depth: i32, k: P.Piece): void {
  const u = unchecked(under[depth]);
  unchecked((openColumn[depth] = u == UNDER_NONE ? -1 : columnOf(u, unchecked(parent[depth]), k)));
  unchecked((openStart[depth] = <u32>out.length));
}

function close(depth: i32): void {
  const c = unchecked(openColumn[depth]);
  if (c < 0) return;
  unchecked((valueStart[c] = openStart[depth]));
  unchecked((valueEnd[c] = <u32>out.length));
  unchecked((valueSerial[c] = serial));
  unchecked((openColumn[depth] = -1));
}

// ---- The line.

/** After the event's JSON, written from start: the row in its place. */
export function finish(start: usize): void {
  noting = false;
  const jsonEnd = out.length;
  // Worst case: every column's key and null, and every value once (a list's escaped: twice its bytes).
  out.reserve(<usize>(prefixLength + unchecked(nullAt[COLUMNS]) + 2) + 2 * (jsonEnd - start));
  out.bytes(prefix, prefixLength);
  const places = spansWanted ? spanSlot() : 0;
  if (places) memory.fill(places, 0, COLUMNS * 8);
  let run = 0; // the first column of the run of nulls not yet written
  for (let i = 0; i < COLUMNS; i++) {
    if (unchecked(valueSerial[i]) != serial) continue;
    const at = unchecked(nullAt[i]);
    out.bytes(nulls + unchecked(nullAt[run]), at - unchecked(nullAt[run]) + unchecked(keyLength[i]));
    const from = out.outputBase() + unchecked(valueStart[i]);
    const n = unchecked(valueEnd[i]) - unchecked(valueStart[i]);
    const written = out.length;
    if (load<u8>(from) == 0x5b) listAsText(from, n);
    else out.bytes(from, n);
    if (places) {
      // Where it will lie once the line is moved to start.
      store<u32>(places + <usize>i * 8, <u32>(written - jsonEnd + start));
      store<u32>(places + <usize>i * 8, <u32>(out.length - written), 4);
    }
    run = i + 1;
  }
  out.bytes(nulls + unchecked(nullAt[run]), unchecked(nullAt[COLUMNS]) - unchecked(nullAt[run]));
  out.byte(0x7d);
  out.byte(0x0a);
  const line = out.length - jsonEnd;
  const base = out.outputBase();
  memory.copy(base + start, base + jsonEnd, line);
  out.setLength(start + line);
}

/** A list's JSON as a JSON string (its column holds the JSON text). */
function listAsText(p: usize, n: u32): void {
  out.byte(0x22);
  for (let i: u32 = 0; i < n; i++) {
    const b = <u32>load<u8>(p + i);
    if (b == 0x22 || b == 0x5c) out.byte(0x5c);
    out.byte(b);
  }
  out.byte(0x22);
}

// ---- Which column a key names, worked out once per pair of pieces (the
// parent's piece says what it is: a map key's piece is no argument's).

const MEMO = 1024;
const memoParent = new StaticArray<usize>(MEMO);
const memoKey = new StaticArray<usize>(MEMO);
const memoColumn = new StaticArray<i32>(MEMO);

function columnOf(u: u8, p: usize, k: P.Piece): i32 {
  let h = <i32>(((p * 0x9e3779b1) ^ (k * 0x85ebca6b)) >> 4) & (MEMO - 1);
  while (true) {
    const mp = unchecked(memoParent[h]);
    const mk = unchecked(memoKey[h]);
    if (mp == p && mk == k && (mp | mk) != 0) return unchecked(memoColumn[h]);
    if ((mp | mk) == 0) break;
    h = (h + 1) & (MEMO - 1);
  }
  const c = findColumn(u, p, k);
  unchecked((memoParent[h] = p));
  unchecked((memoKey[h] = k));
  unchecked((memoColumn[h] = c));
  return c;
}

/** The column's name, by the rule above, looked up among ROW_COLUMNS (-1: none).
 * p: under the event 0; under a map its key's piece; under an argument its piece (k 0: its value). */
function findColumn(u: u8, p: usize, k: P.Piece): i32 {
  let name = "";
  if (u == UNDER_EVENT) name = keyName(k);
  else if (u == UNDER_ARG) name = k ? argName(p) + "_" + keyName(k) : argName(p);
  else name = keyName(p) + "_" + keyName(k);
  for (let i = 0; i < COLUMNS; i++) if (unchecked(ROW_COLUMNS[i]) == name) return i;
  return -1;
}

/** A key piece's name: its JSON form is "name": */
function keyName(k: P.Piece): string {
  return String.UTF8.decodeUnsafe(P.jsonBytes(k) + 1, P.jsonLength(k) - 3);
}

// An argument piece's JSON form starts {"name":"NAME"
const ARG_NAME_AT: usize = 9;

function argName(a: P.Piece): string {
  const from = P.jsonBytes(a) + ARG_NAME_AT;
  let n: usize = 0;
  while (load<u8>(from + n) != 0x22) n++;
  return String.UTF8.decodeUnsafe(from, n);
}
