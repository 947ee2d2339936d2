// Where one CBOR data item ends. cbor-x decodes items but does not expose
// their boundaries, and a reader that reports the byte offset of damage and
// resumes after it needs them. Only item heads are parsed here; decoding is
// cbor-x's job.

export class Incomplete extends Error {}
export class Malformed extends Error {}

const MAX_DEPTH = 64;

/** Offset just past the item that starts at pos. */
export function itemEnd(bytes: Uint8Array, pos: number, depth = 0): number {
  if (depth > MAX_DEPTH) throw new Malformed("nesting too deep");
  if (pos >= bytes.length) throw new Incomplete("item cut short");
  const initial = bytes[pos];
  const major = initial >> 5;
  const info = initial & 31;
  let at = pos + 1;
  let arg = 0;
  if (info < 24) arg = info;
  else if (info <= 27) {
    const size = 1 << (info - 24);
    if (at + size > bytes.length) throw new Incomplete("item head cut short");
    for (let i = 0; i < size; i++) arg = arg * 256 + bytes[at + i];
    at += size;
  } else if (info === 31 && major >= 2 && major <= 5) {
    // Indefinite length: items until a break (0xff).
    while (true) {
      if (at >= bytes.length) throw new Incomplete("indefinite item cut short");
      if (bytes[at] === 0xff) return at + 1;
      at = itemEnd(bytes, at, depth + 1);
      if (major === 5) at = itemEnd(bytes, at, depth + 1);
    }
  } else throw new Malformed(`reserved additional information ${info}`);

  switch (major) {
    case 0:
    case 1:
    case 7:
      return at;
    case 2:
    case 3:
      if (at + arg > bytes.length) throw new Incomplete("string cut short");
      return at + arg;
    case 4:
    case 5: {
      const items = major === 5 ? arg * 2 : arg;
      for (let i = 0; i < items; i++) at = itemEnd(bytes, at, depth + 1);
      return at;
    }
    case 6:
      return itemEnd(bytes, at, depth + 1);
  }
  throw new Malformed("unreachable major type");
}
