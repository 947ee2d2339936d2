// A CBOR log: header first, events, a trailer on a clean stop. On disk it
// can rotate into a set of files whose names sort by time, each file a whole
// sequence with its own header; on standard output it is one sequence. The
// one place that frames modtrace's CBOR.
import { existsSync, statSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { headerItem, rotationTrailerItem, trailerItem, type HeaderFields, type Totals } from "../log-items";
import { makeDirectory, Sink } from "../outputs";

export interface Rotation {
  sizeBytes?: number; // start a new file once this one holds this much
  count?: number; // keep at most this many files of the set, evidence aside
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

export class CborLog {
  private sink!: Sink;
  private part = 0;
  private eventsInFile = 0;
  private events = 0; // in every file of the set
  private bytesInFile = 0;
  private readonly files: string[] = [];
  private readonly prefix?: string; // set when writing a set of files
  /** The open file holds evidence: a successful load or unload, or a finding
   * of medium or above (which no unprivileged caller can raise). */
  private evidenceInFile = false;
  /** Files --rotate-count would have deleted, kept because they hold evidence:
   * a flood of anyone's failed calls must not rotate the real loads away. */
  readonly keptPastCount: string[] = [];

  /** path: a file or a directory for a set of files; none: standard output. */
  constructor(readonly path: string | undefined, private header: HeaderFields, private rotation: Rotation, private overwrite = false) {
    if (path === undefined) {
      this.sink = Sink.open({ format: "cbor" });
      this.files.push("standard output");
      this.part = 1;
      this.write(headerItem(this.header, this.part));
      return;
    }
    const isDirectory = path.endsWith("/") || (existsSync(path) && statSync(path).isDirectory());
    if (isDirectory) {
      makeDirectory(path, `cbor output ${path}`);
      this.prefix = join(path, "modtrace");
    }
    else if (rotation.sizeBytes !== undefined) this.prefix = path.replace(/\.cbor$/, "");
    this.open(this.nextName());
  }

  /** Deletes old files (--rotate-count): evidence is then tracked per item. */
  get rotates() {
    return this.rotation.count !== undefined;
  }

  get name() {
    return this.files.at(-1)!;
  }

  private nextName(): string {
    if (!this.prefix) return this.path!;
    const stamp = new Date().toISOString().replace(/[-:]/g, "");
    return `${this.prefix}-${stamp}-${String(this.part + 1).padStart(4, "0")}.cbor`;
  }

  private open(file: string) {
    this.sink = Sink.open({ format: "cbor", path: file, overwrite: this.overwrite });
    this.files.push(file);
    this.part++;
    this.eventsInFile = 0;
    this.bytesInFile = 0;
    this.evidenceInFile = false;
    this.write(headerItem(this.header, this.part));
  }

  private write(bytes: Uint8Array) {
    this.sink.write(bytes);
    this.bytesInFile += bytes.length;
  }

  /** Writes a batch of event items; ends[i] is where item i ends in bytes,
   * evidence[i] whether it is evidence (see evidenceInFile).
   * With --rotate-size a file holds whole items up to the size (a single
   * larger item still gets a file of its own) plus its trailer. */
  writeEvents(bytes: Uint8Array, ends: Uint32Array, evidence?: Uint8Array) {
    const limit = this.rotation.sizeBytes ?? Infinity;
    let first = 0;
    let start = 0;
    while (first < ends.length) {
      let last = first;
      while (last < ends.length && (this.bytesInFile + ends[last] - start <= limit || (last === first && this.eventsInFile === 0))) last++;
      if (last === first) {
        this.rotate();
        continue;
      }
      this.write(bytes.subarray(start, ends[last - 1]));
      if (evidence?.subarray(first, last).some((x) => x)) this.evidenceInFile = true;
      this.eventsInFile += last - first;
      this.events += last - first;
      start = ends[last - 1];
      first = last;
    }
  }

  /** A finding's item: beside the events, not counted among them. */
  writeFinding(bytes: Uint8Array, evidence: boolean) {
    this.write(bytes);
    if (evidence) this.evidenceInFile = true;
  }

  private rotate() {
    const next = this.nextName();
    this.write(rotationTrailerItem(nowNs(), this.eventsInFile, basename(next)));
    this.sink.close();
    const closed = this.files.length - 1;
    if (this.evidenceInFile) this.evidence.add(this.files[closed]);
    this.open(next);
    // The oldest files beyond the count go, but never one that holds evidence.
    const count = this.rotation.count;
    if (count === undefined) return;
    while (this.files.filter((f) => !this.evidence.has(f)).length > count) {
      const oldest = this.files.findIndex((f) => !this.evidence.has(f));
      unlinkSync(this.files.splice(oldest, 1)[0]);
    }
    for (const f of this.files)
      if (this.evidence.has(f) && !this.keptPastCount.includes(f) && this.files.indexOf(f) < this.files.length - count) {
        this.keptPastCount.push(f);
        process.stderr.write(`modtrace: keeping ${f} past --rotate-count ${count}: it holds a successful load or unload, or a finding of medium or above\n`);
      }
  }

  private readonly evidence = new Set<string>();

  /** The trailer's event count is this log's own: none with --findings-only. */
  finish(totals: Omit<Totals, "eventsInFile">) {
    this.write(trailerItem({ ...totals, written: this.events, eventsInFile: this.eventsInFile }));
    this.sink.close();
  }

  /** After a write error: close what is open, leaving it readable up to its last whole item. */
  abandon() {
    try {
      this.sink.close();
    } catch {
      // The write error that brought us here is the one worth reporting.
    }
  }
}
