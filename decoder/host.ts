// The TypeScript side of the decoder: instantiates the WebAssembly module and
// hands out views of its memory. Views are re-made on every call because
// memory growth detaches the old ArrayBuffer.
//
// The exports' types come from the glue asc generates beside the wasm
// (--bindings raw, Makefile), so an export renamed or removed in
// decoder/assembly/index.ts fails the typecheck instead of being undefined
// at run time. "raw" rather than "esm": esm fetches the wasm from beside the
// glue at import, and the single binary has no such file; raw instantiates
// the bytes the caller embedded.
import { instantiate } from "../build/decoder.js";
import * as layout from "./assembly/generated/layout";

export * as layout from "./assembly/generated/layout";

export type DecodedFormat = "text" | "json" | "cbor";

type Exports = Awaited<ReturnType<typeof instantiate>>;

export class DecodeError extends Error {}

const ERRORS: Record<number, string> = {
  [-1]: "a record runs past the end of the batch, or the batch exceeds the input buffer",
  [-2]: `a record has an impossible size, string bounds or layout version (this decoder reads version ${layout.LAYOUT_VERSION})`,
  [-3]: "unknown output format",
};

export class Decoder {
  private inputAddress = 0;
  private inputCapacity = 0;
  private mirrorAddress = 0;
  private mirrorCapacity = 0;
  /** All of the module's memory, made again when growth detached it
   * (getting memory.buffer costs microseconds: too much per event). */
  private memoryBytes: Uint8Array;

  private formats: Record<DecodedFormat | "row", number>;

  private constructor(private wasm: Exports) {
    this.formats = { text: wasm.FORMAT_TEXT.value, json: wasm.FORMAT_JSON.value, cbor: wasm.FORMAT_CBOR.value, row: wasm.FORMAT_ROW.value };
    this.memoryBytes = new Uint8Array(wasm.memory.buffer);
  }

  private memory(): Uint8Array {
    if (this.memoryBytes.byteLength === 0) this.memoryBytes = new Uint8Array(this.wasm.memory.buffer);
    return this.memoryBytes;
  }

  static async load(bytes: Uint8Array): Promise<Decoder> {
    // The glue instantiates a compiled module, not bytes.
    return new Decoder(await instantiate(await WebAssembly.compile(bytes), { env: {} }));
  }

  /** The input buffer, inside WebAssembly memory, for the loader to fill. */
  inputView(capacity: number): Uint8Array {
    if (capacity > this.inputCapacity) {
      this.inputAddress = this.wasm.inputPtr(capacity);
      this.inputCapacity = capacity;
    }
    return new Uint8Array(this.wasm.memory.buffer, this.inputAddress, capacity);
  }

  setClockOffset(ns: bigint) {
    const u = BigInt.asUintN(64, ns);
    this.wasm.setClock(Number(u >> 32n), Number(u & 0xffffffffn));
  }

  /** The whole records among the first len bytes of the input buffer, at most
   * maxRecords of them: their bytes and their count. Throws on a bad record. */
  span(len: number, maxRecords = 0xffffffff): { bytes: number; records: number } {
    const bytes = this.wasm.span(len, maxRecords);
    if (bytes < 0) throw new DecodeError(ERRORS[bytes] ?? `decoder error ${bytes}`);
    return { bytes, records: this.wasm.spanCount() };
  }

  /** After span(): the offsets in the input buffer of the span's records whose
   * image user space must settle (ImageAssembler.settle). */
  spanImageRecords(): Uint32Array {
    return new Uint32Array(this.wasm.memory.buffer, this.wasm.spanImagesPtr(), this.wasm.spanImageCount());
  }

  /** Decodes the records in the first len bytes of the input buffer (a span());
   * the view is valid until the next call. "row": each event as one JSON line
   * of the events table (rows/schema.ts), after setRowPrefix(). */
  decode(len: number, format: DecodedFormat | "row"): Uint8Array {
    const n = this.wasm.decode(len, this.formats[format]);
    if (n < 0) throw new DecodeError(ERRORS[n] ?? `decoder error ${n}`);
    return new Uint8Array(this.wasm.memory.buffer, this.wasm.outputPtr(), n);
  }

  /** What each row starts with: `{` and the log header's columns as JSON (the row format adds the event's). */
  setRowPrefix(prefix: Uint8Array) {
    new Uint8Array(this.wasm.memory.buffer, this.wasm.rowPrefixPtr(prefix.length), prefix.length).set(prefix);
    this.wasm.setRowPrefix(prefix.length);
  }

  /** Whether decode(…, "row") also gives where each value lies (rowSpans()). */
  wantRowSpans(on: boolean) {
    this.wasm.wantRowSpans(on);
  }

  /** After decode(…, "row") with wantRowSpans: per row, per column after the
   * log header's, the value's offset in the output and its length (0: none). */
  rowSpans(rows: number): Uint32Array {
    return new Uint32Array(this.wasm.memory.buffer, this.wasm.rowSpansPtr(), rows * this.wasm.rowColumns() * 2);
  }

  /** After decode(): where each record's output ends, one offset per record. */
  itemEnds(records: number): Uint32Array {
    return new Uint32Array(this.wasm.memory.buffer, this.wasm.endsPtr(), records);
  }

  tally(len: number) {
    this.wasm.tally(len);
  }

  count(event: number): number {
    return this.wasm.count(event);
  }

  /** --container [ID] / --not-container: span() drops the records that fail it. */
  setContainerFilter(f?: { inside: boolean; id?: string }) {
    const w = this.wasm;
    if (!f) return w.setContainerFilter(w.FILTER_NONE.value, 0);
    const id = Buffer.from(f.inside ? (f.id ?? "") : "", "utf8").subarray(0, 255);
    new Uint8Array(w.memory.buffer, w.filterIdPtr(), id.length).set(id);
    w.setContainerFilter(f.inside ? w.FILTER_INSIDE.value : w.FILTER_OUTSIDE.value, id.length);
  }

  /** Records span() dropped for the container filter. */
  filtered(): number {
    return this.wasm.filtered();
  }

  /** The container of the record at offset `at` of the input buffer, as
   * inContainer judges it: undefined outside one; a runtime of "" for a
   * process in its own pid and mount namespaces under no known runtime. */
  recordContainer(at: number): { runtime: string; id: string } | undefined {
    return this.container(this.wasm.recordContainer(at));
  }

  /** The same for a record rebuildRun() lent: a view of this decoder's memory. */
  containerOf(record: Uint8Array): { runtime: string; id: string } | undefined {
    if (record.buffer !== this.memory().buffer) throw new Error("containerOf: the record is not in the decoder's memory");
    return this.container(this.wasm.recordContainerAt(record.byteOffset));
  }

  private container(inside: boolean): { runtime: string; id: string } | undefined {
    const w = this.wasm;
    if (!inside) return undefined;
    const text = (ptr: number, len: number) => Buffer.from(new Uint8Array(w.memory.buffer, ptr, len)).toString("utf8");
    return { runtime: text(w.containerRuntimePtr(), w.containerRuntimeLen()), id: text(w.containerIdPtr(), w.containerIdLen()) };
  }

  /** The mirror of a log's window (rebuild), at least capacity bytes; valid until the next call. */
  mirror(capacity: number): Uint8Array {
    if (capacity > this.mirrorCapacity) {
      this.mirrorAddress = this.wasm.mirrorPtr(capacity);
      this.mirrorCapacity = capacity;
    }
    return this.memory().subarray(this.mirrorAddress, this.mirrorAddress + this.mirrorCapacity);
  }

  /** The run of event maps from offset at of the mirror (len bytes there) that
   * the rebuild takes, at most maxRecords: their records one after another,
   * where each item began (from the first), and the mirror's bytes they
   * took. Views, valid until the next call; count 0 when the first is left
   * to the TypeScript rebuild (record/records.ts). */
  rebuildRun(at: number, len: number, maxRecords: number): { count: number; records: Uint8Array; starts: Uint32Array; length: number } {
    const w = this.wasm;
    const count = w.rebuildRun(at, len, maxRecords);
    const memory = this.memory();
    const batch = w.batchPtr();
    return {
      count,
      records: memory.subarray(batch, batch + w.batchLength()),
      starts: new Uint32Array(memory.buffer, w.batchStartsPtr(), count),
      length: w.batchConsumed(),
    };
  }

  textHeader(): Uint8Array {
    const n = this.wasm.textHeader();
    return new Uint8Array(this.wasm.memory.buffer, this.wasm.outputPtr(), n);
  }
}
