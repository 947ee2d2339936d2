// The decoder's rows read back as typed values, for Parquet: the row format
// (decoder/assembly/row.ts) tells where each column's value lies in its
// line, so a value is read from its JSON bytes by its column's type without
// parsing the line or making a map.
import { LOG_HEADER_COLUMNS, EVENT_COLUMNS, type ColumnType } from "./schema";
import type { Row, Value } from "./flatten";

const utf8 = new TextDecoder();
const HEADER = LOG_HEADER_COLUMNS.length;
const TYPES: ColumnType[] = EVENT_COLUMNS.slice(HEADER).map((c) => c.type);
/** Columns the row format places (those after the log header's). */
export const PLACED_COLUMNS = TYPES.length;

/** Each of count rows of bytes as a Row: header, the log header's values;
 * places, per row and column, the value's offset and length (0: none). */
export function rowsAt(bytes: Uint8Array, places: Uint32Array, count: number, header: Value[], push: (row: Row) => void) {
  for (let r = 0, p = 0; r < count; r++) {
    const row: Row = new Array(HEADER + PLACED_COLUMNS);
    for (let i = 0; i < HEADER; i++) row[i] = header[i];
    for (let c = 0; c < PLACED_COLUMNS; c++, p += 2) {
      const len = places[p + 1];
      row[HEADER + c] = len === 0 ? null : valueAt(TYPES[c], bytes, places[p], len);
    }
    push(row);
  }
}

function valueAt(type: ColumnType, b: Uint8Array, at: number, len: number): Value {
  if (b[at] === 0x6e) return null; // null
  switch (type) {
    case "bool":
      return b[at] === 0x74;
    case "string":
    case "hex":
      return textAt(b, at, len);
    default:
      return integerAt(b, at, len);
  }
}

/** A JSON string's value: its bytes as they are when nothing is escaped. */
function textAt(b: Uint8Array, at: number, len: number): string {
  const end = at + len - 1; // the closing quote
  let ascii = true;
  for (let i = at + 1; i < end; i++) {
    const c = b[i];
    if (c === 0x5c) return JSON.parse(utf8.decode(b.subarray(at, at + len)));
    if (c >= 0x80) ascii = false;
  }
  if (!ascii || end - at > 64) return utf8.decode(b.subarray(at + 1, end));
  let s = "";
  for (let i = at + 1; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** A JSON integer: a number while exact, a BigInt past 15 digits. */
function integerAt(b: Uint8Array, at: number, len: number): number | bigint {
  const negative = b[at] === 0x2d;
  let i = negative ? at + 1 : at;
  const end = at + len;
  if (end - i > 15) {
    // The head and the last nine digits, each exact as a number.
    const high = digits(b, i, end - 9);
    const v = BigInt(high) * 1_000_000_000n + BigInt(digits(b, end - 9, end));
    return negative ? -v : v;
  }
  const v = digits(b, i, end);
  return negative ? -v : v;
}

function digits(b: Uint8Array, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (b[i] - 0x30);
  return v;
}
