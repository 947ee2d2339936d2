// Output bytes that never change (keys, event and hook names, each argument's
// name and type), encoded once at start-up in all three forms and copied
// whole: narrowing AssemblyScript's UTF-16 literals byte by byte for every
// event was a third of the decoder's time.
//
// A piece: 4 header bytes (CBOR, JSON and text lengths), then the three forms.

export type Piece = usize;

const ARENA_BYTES: usize = 16384;
// Room past the end: pieces are copied eight bytes at a time.
const arena = heap.alloc(ARENA_BYTES + 8);
let used: usize = 0;

function put(b: u32): void {
  if (used >= ARENA_BYTES) unreachable(); // more pieces than the arena holds: a build-time mistake
  store<u8>(arena + used++, b);
}

function putAscii(s: string): void {
  for (let i = 0; i < s.length; i++) put(s.charCodeAt(i));
}

function putCborText(s: string): void {
  if (s.length < 24) put(0x60 | s.length);
  else {
    put(0x78);
    put(s.length);
  }
  putAscii(s);
}

function putJsonString(s: string): void {
  put(0x22);
  putAscii(s);
  put(0x22);
}

/** Starts a piece; its three forms follow, each between startForm() and endForm(). */
function begin(): Piece {
  const p = arena + used;
  for (let i = 0; i < 4; i++) put(0);
  return p;
}

let formStart: usize = 0;
function startForm(): void {
  formStart = used;
}
function endForm(p: Piece, index: usize): void {
  store<u8>(p + index, <u32>(used - formStart));
}

/** A map key: CBOR text, `"key":` in JSON, `key: ` in text. */
export function key(k: string): Piece {
  const p = begin();
  startForm();
  putCborText(k);
  endForm(p, 0);
  startForm();
  putJsonString(k);
  put(0x3a);
  endForm(p, 1);
  startForm();
  putAscii(k);
  put(0x3a);
  put(0x20);
  endForm(p, 2);
  return p;
}

/** A text value: CBOR text, a JSON string, the bare text. */
export function text(v: string): Piece {
  const p = begin();
  startForm();
  putCborText(v);
  endForm(p, 0);
  startForm();
  putJsonString(v);
  endForm(p, 1);
  startForm();
  putAscii(v);
  endForm(p, 2);
  return p;
}

/** The start of an argument's map up to its value:
 * {"name": name, "type": type, "value": …; the CBOR map head's size is
 * patched by the writer (a placeholder 0xa0 here); `name: ` in text. */
/** Keys an argument's piece holds: name, type and value. */
export const ARG_KEYS: u32 = 3;

/** An argument's map up to its value: in CBOR a one-byte map head (filled
 * in when the map closes), then "name", "type" and the "value" key. */
export function arg(name: string, type: string): Piece {
  const p = begin();
  startForm();
  put(0xa0);
  putCborText("name");
  putCborText(name);
  putCborText("type");
  putCborText(type);
  putCborText("value");
  endForm(p, 0);
  startForm();
  putAscii('{"name":');
  putJsonString(name);
  putAscii(',"type":');
  putJsonString(type);
  putAscii(',"value":');
  endForm(p, 1);
  startForm();
  putAscii(name);
  put(0x3a);
  put(0x20);
  endForm(p, 2);
  return p;
}

// @ts-ignore: decorator
@inline export function cborLength(p: Piece): usize {
  return load<u8>(p);
}
// @ts-ignore: decorator
@inline export function jsonLength(p: Piece): usize {
  return load<u8>(p, 1);
}
// @ts-ignore: decorator
@inline export function textLength(p: Piece): usize {
  return load<u8>(p, 2);
}
// @ts-ignore: decorator
@inline export function cborBytes(p: Piece): usize {
  return p + 4;
}
// @ts-ignore: decorator
@inline export function jsonBytes(p: Piece): usize {
  return p + 4 + cborLength(p);
}
// @ts-ignore: decorator
@inline export function textBytes(p: Piece): usize {
  return p + 4 + cborLength(p) + jsonLength(p);
}
