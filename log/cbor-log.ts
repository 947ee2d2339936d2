// A CBOR log: header first, events, a trailer on a clean stop. On disk it
// can rotate into a set of files whose names sort by time, each file a whole
// sequence with its own header; on standard output it is one sequence. The
// one place that frames modtrace's CBOR.
// Sealed (a SealKey given): each file keeps a running SHA-256 over every
// byte written to it, and seals it (log/seal.ts) when CaptureOutputs asks,
// in each rotation trailer and in the final trailer; a file's header names
// the file before it and that file's final chain.
import { existsSync, statSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { headerItem, rotationTrailerItem, sealItem, trailerItem, type FileSealing, type HeaderFields, type Health, type Totals } from "./log-items";
import { makeDirectory, Sink } from "../output/outputs";
import type { SealFields, SealKey } from "./seal";

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
  /** Sealing: the running hash of the open file, its items and seals so far. */
  private hash?: Bun.CryptoHasher;
  private itemsInFile = 0;
  private sealsInFile = 0;
  private itemsAtSeal = -1;
  private readonly partOf = new Map<string, number>();
  /** Parts deleted by --rotate-count, as ranges: each sealed header carries them all. */
  private readonly deletedParts: [number, number][] = [];

  /** path: a file or a directory for a set of files; none: standard output.
   * sealKey: seal the log with the capture's key (one for every output). */
  constructor(readonly path: string | undefined, private header: HeaderFields, private rotation: Rotation, private overwrite = false, private sealKey?: SealKey) {
    if (sealKey) this.header = { ...header, sealing: { keyId: sealKey.id, interval: sealKey.intervalSec } };
    if (path === undefined) {
      this.sink = Sink.open({ format: "cbor" });
      this.files.push("standard output");
      this.part = 1;
      this.startFile();
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

  private open(file: string, sealing: FileSealing = {}) {
    this.sink = Sink.open({ format: "cbor", path: file, overwrite: this.overwrite });
    this.files.push(file);
    this.part++;
    this.partOf.set(file, this.part);
    this.eventsInFile = 0;
    this.bytesInFile = 0;
    this.evidenceInFile = false;
    this.startFile();
    this.write(headerItem(this.header, this.part, sealing));
  }

  private startFile() {
    this.hash = this.sealKey && new Bun.CryptoHasher("sha256"); // not node:crypto: seal.ts says why
    this.itemsInFile = 0;
    this.sealsInFile = 0;
    this.itemsAtSeal = -1;
  }

  /** bytes: whole items, `items` of them. */
  private write(bytes: Uint8Array, items = 1) {
    this.sink.write(bytes);
    this.bytesInFile += bytes.length;
    this.hash?.update(bytes);
    this.itemsInFile += items;
  }

  /** The next seal of this file, made now under the key's current epoch. */
  private sealFields(time: bigint): SealFields {
    return { seq: this.sealsInFile++, items: this.itemsInFile, chain: this.hash!.copy().digest("hex"), epoch: this.sealKey!.epoch, time };
  }

  /** Seals what was written since the last seal; with the capture's health,
   * every interval whatever was written (the log's proof the monitor was
   * alive). The caller evolves the key once every output has sealed (so that
   * a log on standard output and the same log in a file stay the same bytes). */
  seal(time: bigint, health?: Omit<Health, "events">): boolean {
    if (!this.sealKey || (!health && this.itemsInFile === this.itemsAtSeal)) return false;
    this.write(this.sealKey.sign(sealItem(this.sealFields(time), health && { events: this.events, ...health })));
    this.itemsAtSeal = this.itemsInFile;
    return true;
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
      this.write(bytes.subarray(start, ends[last - 1]), last - first);
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
    const end = nowNs();
    const seal = this.sealKey && this.sealFields(end);
    this.write(seal ? this.sealKey!.sign(rotationTrailerItem(end, this.eventsInFile, basename(next), seal)) : rotationTrailerItem(end, this.eventsInFile, basename(next)));
    this.sink.close();
    const closed = this.files.length - 1;
    if (this.evidenceInFile) this.evidence.add(this.files[closed]);
    // The oldest files beyond the count go, but never one that holds evidence;
    // a sealed set names them in the next file's header, so verify tells them from a deletion.
    const doomed = this.rotatedAway(next);
    for (const f of doomed) {
      const part = this.partOf.get(f)!;
      const last = this.deletedParts.at(-1);
      if (last && last[1] === part - 1) last[1] = part;
      else this.deletedParts.push([part, part]);
    }
    if (seal) {
      const previous = { file: basename(this.files[closed]), part: this.part, chain: this.hash!.digest("hex") };
      this.sealKey!.evolve();
      this.open(next, { previous, ...(this.deletedParts.length && { rotatedAway: this.deletedParts }) });
    } else this.open(next);
    const count = this.rotation.count;
    if (count === undefined) return;
    for (const f of doomed) {
      this.files.splice(this.files.indexOf(f), 1);
      unlinkSync(f);
    }
    for (const f of this.files)
      if (this.evidence.has(f) && !this.keptPastCount.includes(f) && this.files.indexOf(f) < this.files.length - count) {
        this.keptPastCount.push(f);
        process.stderr.write(`modtrace: keeping ${f} past --rotate-count ${count}: it holds a successful load or unload, or a finding of medium or above\n`);
      }
  }

  private readonly evidence = new Set<string>();

  /** The files --rotate-count deletes once `next` is open: the oldest beyond the count that hold no evidence. */
  private rotatedAway(next: string): string[] {
    const count = this.rotation.count;
    if (count === undefined) return [];
    const files = [...this.files, next];
    const doomed: string[] = [];
    while (files.filter((f) => !this.evidence.has(f)).length > count) doomed.push(files.splice(files.findIndex((f) => !this.evidence.has(f)), 1)[0]);
    return doomed;
  }

  /** The trailer's event count is this log's own: none with --findings-only. */
  finish(totals: Omit<Totals, "eventsInFile">) {
    const t = { ...totals, written: this.events, eventsInFile: this.eventsInFile };
    this.write(this.sealKey ? this.sealKey.sign(trailerItem(t, this.sealFields(totals.endNs))) : trailerItem(t));
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
