// Raw records (struct mt_record, bpf/events.h) as the tests take them apart
// and put them together: a fixed part, then the strings each slot points at.
import { layout } from "../../decoder/host";

/** The records of a raw capture, split at each one's size field. */
export function splitRecords(raw: Uint8Array): Buffer[] {
  return splitRaw(raw).records;
}

/** A raw capture's records and module image chunks (a chunk's size field is
 * layout.CHUNK_SIZE, beyond any record's), each in the order captured. */
export function splitRaw(raw: Uint8Array): { records: Buffer[]; chunks: Buffer[] } {
  const out = { records: [] as Buffer[], chunks: [] as Buffer[] };
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let at = 0; at < raw.length; ) {
    const size = view.getUint32(at + layout.REC_OFF_SIZE, true);
    if (size < layout.REC_SIZE || at + size > raw.length) throw new Error(`no whole record at offset ${at}`);
    (size === layout.CHUNK_SIZE ? out.chunks : out.records).push(Buffer.from(raw.subarray(at, at + size)));
    at += size;
  }
  return out;
}

/** rec with one slot's string replaced by bytes (state OK), the strings packed anew. */
export function withString(rec: Buffer, slot: number, bytes: Buffer): Buffer {
  const strings: Buffer[] = [];
  for (let i = 0; i < layout.SLOT_COUNT; i++) {
    const off = rec.readUInt16LE(layout.REC_OFF_STR_OFF + 2 * i);
    const len = rec.readUInt16LE(layout.REC_OFF_STR_LEN + 2 * i);
    strings.push(i === slot ? bytes : rec.subarray(off, off + len));
  }
  const size = (layout.REC_SIZE + strings.reduce((n, s) => n + s.length, 0) + 7) & ~7;
  const out = Buffer.alloc(size);
  rec.copy(out, 0, 0, layout.REC_SIZE);
  let at = layout.REC_SIZE;
  strings.forEach((s, i) => {
    out.writeUInt16LE(at, layout.REC_OFF_STR_OFF + 2 * i);
    out.writeUInt16LE(s.length, layout.REC_OFF_STR_LEN + 2 * i);
    s.copy(out, at);
    at += s.length;
  });
  out.writeUInt8(layout.STR_OK, layout.REC_OFF_STR_STATE + slot);
  out.writeUInt32LE(size, layout.REC_OFF_SIZE);
  return out;
}
