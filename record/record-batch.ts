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

  /** One record, or a run of count records one after another, as the
   * reader lends it. flush() empties the batch into the decoder: first when
   * they do not fit (with the run copied, since decoding can grow the
   * decoder's memory, where the run may lie), and after when the batch is full. */
  take(records: Uint8Array, count: number, flush: () => void) {
    const fits = this.count + count <= this.capacity && this.length + records.length <= this.bytes.length;
    const run = fits ? records : records.slice();
    if (!fits) flush();
    this.bytes.set(run, this.length);
    this.length += run.length;
    this.count += count;
    if (this.count >= this.capacity) flush();
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

