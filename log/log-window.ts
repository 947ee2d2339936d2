// A window onto a log file: the bytes from one offset on, read a chunk at a
// time, so a reader's memory is the same whatever the log's size; and, for
// a reader that rebuilds events in WebAssembly, the same bytes mirrored in
// the decoder's memory.
import { readSync } from "node:fs";
import type { Decoder } from "../decoder/host";

// Logs are read through a window of the file, not whole: memory stays the
// same whatever the log's size (a day's capture can be gigabytes).
export const CHUNK = 4 << 20;
export const MIN_CHUNK = 64 << 10;
// The most of the file one item may need in the window at once: a header
// with a host's every module is some MiB. A length past this is damage.
const MAX_ITEM = 64 << 20;
const GC_BYTES = 64 << 20;
// Counted over every log read (by this thread), not per log: a fleet's small
// logs never reached GC_BYTES each.
let readSinceGc = 0;

// A window's buffer serves the next log read when the window is done: a
// fleet's thousand logs each took a fresh one, whose pages the kernel
// faulted in and zeroed as readSync filled them (a fifth of `stats` over a
// fleet). Only a buffer of at most two chunks is kept.
let spare: Uint8Array | undefined;

function buffer(size: number): Uint8Array {
  const kept = spare;
  if (kept && kept.length >= size) {
    spare = undefined;
    return kept;
  }
  return new Uint8Array(size);
}

/** A window onto a log: the bytes from `base` on, `bytes.length` of them. */
export class LogWindow {
  private buf: Uint8Array;
  private len: number;
  base = 0;
  eof: boolean;
  /** Events come as records (readLog's records option)... */
  keepRecords = false;
  /** ...rebuilt by the decoder's WebAssembly where it can, from a mirror of the window. */
  rebuilder?: Decoder;

  constructor(private fd?: number, whole?: Uint8Array, private chunk = CHUNK) {
    this.buf = whole ?? buffer(chunk);
    this.len = whole?.length ?? 0;
    this.eof = whole !== undefined;
  }

  /** Done with the file: its buffer may serve the next window. Nothing
   * read from it may be used after. */
  release() {
    if (this.fd === undefined || this.buf.length > 2 * CHUNK) return;
    if (!spare || spare.length < this.buf.length) spare = this.buf;
  }

  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  get end(): number {
    return this.base + this.len;
  }

  /** Drops what lies before `from` and reads on; false when there is no more
   * to read (the end of the file), or the window holds MAX_ITEM from `from`. */
  more(from: number): boolean {
    if (this.eof || this.fd === undefined) return false;
    const keep = this.end - from;
    if (keep >= MAX_ITEM) return false;
    const grows = this.buf.length - keep < this.chunk;
    this.buf.copyWithin(0, from - this.base, this.len);
    // The mirror moves as the window does, and is given only the bytes read.
    if (!grows) this.rebuilder?.mirror(this.buf.length).copyWithin(0, from - this.base, this.len);
    this.base = from;
    this.len = keep;
    if (grows) {
      const grown = new Uint8Array(Math.min(MAX_ITEM + this.chunk, Math.max(this.buf.length * 2, this.len + this.chunk)));
      grown.set(this.bytes);
      this.buf = grown;
    }
    const n = readSync(this.fd, this.buf, this.len, Math.min(this.chunk, this.buf.length - this.len), this.end);
    // The items read since are garbage by now (a reader keeps what it
    // needs): collected every GC_BYTES, memory stays flat whatever the log's
    // size instead of growing until the runtime's own heuristics collect
    // (270-290 MiB on a 224 MB log when every event was a map). Every 64 MiB:
    // each collection costs some 200 ms on a fleet's thousand logs, and read,
    // stats and findings peak at 80-115 MiB, rows at 145, Parquet at 210.
    if ((readSinceGc += n) >= GC_BYTES) {
      readSinceGc = 0;
      Bun.gc(true);
    }
    if (n === 0) this.eof = true;
    if (grows) this.rebuilder?.mirror(this.buf.length).set(this.bytes.subarray(0, keep));
    this.rebuilder?.mirror(this.buf.length).set(this.buf.subarray(this.len, this.len + n), this.len);
    this.len += n;
    return n > 0;
  }
}

