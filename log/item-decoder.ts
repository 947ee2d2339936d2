// Decodes the log items modtrace writes, as cbor-x would (maps as objects,
// byte strings copied, 8-byte integers as BigInt), several times faster on
// them. The compiled binary has cbor-x's JavaScript alone (no native string
// extractor), which builds every map key as a new string: an event's sixty
// keys cost more than the rest of it (cbor-x 1.6.9 decoded these items at
// 40-77 MB/s here, JSON.parse of the same events some ten times faster).
// Keys here are interned by their bytes.
//
// Only the shapes modtrace writes are decoded: definite lengths, text keys,
// integers, strings, byte strings, true, false, null and undefined. Any other
// item (a float, a tag, an indefinite length, invalid UTF-8, damage) throws
// NotHandled, and the reader hands that item to cbor-x: what cbor-x accepts
// or refuses, and how, stays its decision.

export class NotHandled extends Error {}

const NOT_HANDLED = new NotHandled("not an item of modtrace's own shapes");
// Lengths past these are no log item's (and would be cbor-x's to judge).
const MAX_ENTRIES = 1 << 16;
const KEY_SLOTS = 1024;
const MAX_INTERNED = 48;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

let b: Uint8Array = new Uint8Array(0);
let view = new DataView(b.buffer);
let p = 0;

// Interned keys: a slot by a hash of the key's bytes, checked byte for byte.
const slotBytes: (Uint8Array | undefined)[] = new Array(KEY_SLOTS);
const slotKeys: string[] = new Array(KEY_SLOTS);

/** The whole item in bytes (its bounds already known: log/item-bounds.ts). */
export function decodeItem(bytes: Uint8Array): unknown {
  if (bytes !== b) {
    b = bytes;
    view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  p = 0;
  const value = item();
  if (p !== bytes.length) throw NOT_HANDLED;
  return value;
}

/** The argument of the head just read (additional information info); a
 * BigInt for an 8-byte one, as cbor-x gives it. */
function argument(info: number): number | bigint {
  if (info < 24) return info;
  switch (info) {
    case 24:
      return b[p++];
    case 25:
      p += 2;
      return view.getUint16(p - 2);
    case 26:
      p += 4;
      return view.getUint32(p - 4);
    case 27:
      p += 8;
      return view.getBigUint64(p - 8);
  }
  throw NOT_HANDLED;
}

function length(info: number): number {
  const n = argument(info);
  if (typeof n !== "number" || n > MAX_ENTRIES) throw NOT_HANDLED;
  return n;
}

function text(n: number): string {
  const start = p;
  const end = (p += n);
  if (end > b.length) throw NOT_HANDLED;
  let s = "";
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c >= 0x80) {
      // cbor-x's JavaScript and TextDecoder part ways on invalid UTF-8 and on
      // a byte-order mark: those are cbor-x's.
      if (b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) throw NOT_HANDLED;
      try {
        return utf8.decode(b.subarray(start, end));
      } catch {
        throw NOT_HANDLED;
      }
    }
    s += String.fromCharCode(c);
  }
  return s;
}

function key(): string {
  const head = b[p++];
  if (head >> 5 !== 3) throw NOT_HANDLED; // a key that is not text: cbor-x's
  const n = length(head & 31);
  let h = n;
  for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + b[p + i]) | 0;
  const slot = h & (KEY_SLOTS - 1);
  const known = slotBytes[slot];
  if (known !== undefined && known.length === n) {
    let i = 0;
    while (i < n && known[i] === b[p + i]) i++;
    if (i === n) {
      p += n;
      return slotKeys[slot];
    }
  }
  const decoded = text(n);
  // As cbor-x's safeKey: no prototype pollution.
  const k = decoded === "__proto__" ? "__proto_" : decoded;
  if (n <= MAX_INTERNED) {
    // A copy: the bytes read belong to the reader's window, which moves.
    slotBytes[slot] = Uint8Array.prototype.slice.call(b, p - n, p);
    slotKeys[slot] = k;
  }
  return k;
}

function item(): unknown {
  if (p >= b.length) throw NOT_HANDLED;
  const head = b[p++];
  const info = head & 31;
  switch (head >> 5) {
    case 0:
      return argument(info);
    case 1: {
      const n = argument(info);
      return typeof n === "bigint" ? -1n - n : -1 - n;
    }
    case 2: {
      const n = length(info);
      if (p + n > b.length) throw NOT_HANDLED;
      // cbor-x's copyBuffers: the copying slice of the same kind of array.
      return Uint8Array.prototype.slice.call(b, p, (p += n));
    }
    case 3:
      return text(length(info));
    case 4: {
      const n = length(info);
      const a = new Array(n);
      for (let i = 0; i < n; i++) a[i] = item();
      return a;
    }
    case 5: {
      const n = length(info);
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) o[key()] = item();
      return o;
    }
    case 7:
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      if (info === 23) return undefined;
  }
  throw NOT_HANDLED;
}
