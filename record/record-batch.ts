// Records one after another, as the decoder takes them: gathered for it
// from the log reader (which lends each only until its next item), and
// walked when they come as a run.
import * as layout from "./layout";
import type { Decoder } from "../decoder/host";

/** Records gathered for the decoder, copied as they come (the log reader
 * lends each only until its next item), up to `capacity` of them. */
export class RecordBatch {
  private bytes: Uint8Array;
  private length = 0;
  count = 0;

  constructor(readonly capacity: number) {
    this.bytes = new Uint8Array(capacity * layout.RECORD_MAX);
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /** Whether count more records, of `bytes` bytes in all, fit. */
  fits(bytes: number, count = 1): boolean {
    return this.count + count <= this.capacity && this.length + bytes <= this.bytes.length;
  }

  /** One record, or a run of count records one after another. */
  add(records: Uint8Array, count = 1) {
    this.bytes.set(records, this.length);
    this.length += records.length;
    this.count += count;
  }

  /** Into the decoder's input buffer, and empty again; their bytes, ready for span or decode. */
  put(decoder: Decoder): number {
    const n = this.length;
    decoder.inputView(this.bytes.length).set(this.bytes.subarray(0, n));
    this.length = this.count = 0;
    return n;
  }
}

/** Each record of a run of records one after another (the log reader's "records" items). */
export function* eachRecord(run: Uint8Array): Generator<Uint8Array> {
  const view = new DataView(run.buffer, run.byteOffset, run.byteLength);
  for (let at = 0; at + layout.REC_SIZE <= run.length; ) {
    const size = view.getUint32(at + layout.REC_OFF_SIZE, true);
    if (size < layout.REC_SIZE) return;
    yield run.subarray(at, at + size);
    at += size;
  }
}

