// Every output of one capture (-o, repeatable): opened before anything is
// attached where that can fail, given each batch of records in the form it
// wants, and closed with a trailer where the format has one.
import { EVENTS } from "../catalogue/events";
import type { Decoder } from "../decoder/host";
import { CborLog, type Rotation } from "../log/cbor-log";
import { headerItem, type HeaderFields, type Health, type Totals } from "../log/log-items";
import { checkStandardOutput, colourWanted, Sink, type ColourChoice, type OutputSpec } from "../output/outputs";
import { atOrAbove, type Finding } from "../findings/finding";
import { forEachRecord, type EventView } from "../record/event-view";
import { findingCbor, renderFinding } from "../findings/format";
import type { SealKey } from "../log/seal";
import { fitLines, rowWidth } from "../output/terminal-width";

type LiveRows = InstanceType<typeof import("../rows/capture-rows").LiveRows>;

/** What one output was given, for the summary: what reached it, not what was captured. */
interface Written {
  label: string;
  events: number;
  findings: number;
}

function label(spec: OutputSpec): string {
  return `${spec.path ?? "standard output"} (${spec.format})`;
}

export class CaptureOutputs {
  private logs: CborLog[] = []; // every cbor output, a file set or standard output
  private headerDue = new Set<Sink>(); // text on a terminal: the column header waits for the first row
  private textHeader?: () => Uint8Array;
  private liveRows?: LiveRows;
  private written = new Map<Sink | CborLog, Written>();
  private sealKey?: SealKey;
  private lastSealMs = 0;

  private constructor(private specs: OutputSpec[], private sinks: Sink[], private colour: ColourChoice, private wide: boolean) {
    for (const sink of sinks) this.written.set(sink, { label: label(sink.spec), events: 0, findings: 0 });
  }

  /** Opens the outputs that are not CBOR logs: a bad path fails here, before
   * anything is loaded into the kernel. */
  static open(specs: OutputSpec[], colour: ColourChoice, wide = false): CaptureOutputs {
    const sinks: Sink[] = [];
    try {
      // A log on standard output opens once attached: its closed descriptor fails now.
      for (const spec of specs) if (spec.format === "cbor" && !spec.path) checkStandardOutput(spec.format);
      for (const spec of specs) if (spec.format !== "cbor") sinks.push(Sink.open(spec));
    } catch (e) {
      sinks.forEach((s) => s.close());
      throw e;
    }
    return new CaptureOutputs(specs, sinks, colour, wide);
  }

  /** Whether there is a CBOR log to seal. */
  get hasLogs() {
    return this.specs.some((s) => s.format === "cbor");
  }

  /** Once attached: the logs, which start with the header naming what was
   * attached; sealed with sealKey, one key sequence for every log. */
  async start(header: HeaderFields, rotation: Rotation, decoder: Decoder, sealKey?: SealKey) {
    this.sealKey = sealKey;
    this.lastSealMs = performance.now();
    try {
      // Rotation is for files: standard output is one sequence.
      for (const spec of this.specs)
        if (spec.format === "cbor") {
          const log = new CborLog(spec.path, header, spec.path ? rotation : {}, spec.overwrite, sealKey);
          this.logs.push(log);
          this.written.set(log, { label: label(spec), events: 0, findings: 0 });
        }
      // The column header heads the rows: in a file or pipe at once, on a
      // terminal just before the first row, below the start-up lines on stderr.
      for (const sink of this.sinks)
        if (sink.spec.format === "text") {
          if (!sink.spec.path && process.stdout.isTTY) this.headerDue.add(sink);
          else sink.write(decoder.textHeader());
        }
      this.textHeader = () => decoder.textHeader();
      // Loaded only for -o rows: a plain capture's start-up and memory need none of it.
      if (this.sinks.some((s) => s.spec.format === "rows"))
        this.liveRows = new (await import("../rows/capture-rows")).LiveRows(headerItem(header, 1));
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Raw outputs: records and image chunks exactly as the kernel sent them
   * (chunks are told apart by their size, layout.CHUNK_SIZE, beyond any record's). */
  writeRaw(bytes: Uint8Array, records = 0) {
    for (const sink of this.sinks)
      if (sink.spec.format === "raw") {
        sink.write(bytes);
        this.written.get(sink)!.events += records;
      }
  }

  /** The column header, where it waits for the first row (a terminal). */
  private headerFirst(sink: Sink) {
    if (!this.headerDue.delete(sink)) return;
    sink.write(fitLines(this.textHeader!(), rowWidth(sink.spec, this.wide)));
  }

  /** One batch: the first len bytes of the decoder's input, `records` records. */
  write(decoder: Decoder, len: number, records: number) {
    // Counted after each write: an output that failed holds fewer than the others.
    for (const sink of this.sinks)
      if (sink.spec.format === "text" || sink.spec.format === "json") {
        if (sink.spec.format === "text") this.headerFirst(sink);
        sink.write(fitLines(decoder.decode(len, sink.spec.format), rowWidth(sink.spec, this.wide)));
        this.written.get(sink)!.events += records;
      }
    if (this.liveRows) {
      const lines = this.liveRows.lines(decoder, len);
      for (const sink of this.sinks)
        if (sink.spec.format === "rows") {
          sink.write(lines);
          this.written.get(sink)!.events += records;
        }
    }
    if (this.logs.length) {
      const bytes = decoder.decode(len, "cbor");
      const ends = decoder.itemEnds(records);
      const evidence = this.logs.some((l) => l.rotates) ? evidenceOf(decoder, len, records) : undefined;
      for (const log of this.logs) {
        log.writeEvents(bytes, ends, evidence);
        this.written.get(log)!.events += records;
      }
    }
  }

  /** Findings, after the events they rest on. -o rows and raw carry events only. */
  writeFindings(findings: Finding[]) {
    if (!findings.length) return;
    for (const sink of this.sinks) {
      const format = sink.spec.format;
      if (format !== "text" && format !== "json") continue;
      if (format === "text") this.headerFirst(sink);
      const colour = colourWanted(sink.spec, this.colour);
      sink.write(Buffer.concat(findings.map((f) => renderFinding(f, format, colour))));
      this.written.get(sink)!.findings += findings.length;
    }
    for (const f of findings) {
      const bytes = findingCbor(f);
      for (const log of this.logs) {
        log.writeFinding(bytes, atOrAbove(f.severity, "medium"));
        this.written.get(log)!.findings++;
      }
    }
  }

  /** Every --seal-interval: each log seals what it was given since its last
   * seal, all at one moment under one epoch; then the key evolves. */
  sealIfDue(health: () => Omit<Health, "events">) {
    const key = this.sealKey;
    if (!key || performance.now() - this.lastSealMs < key.intervalSec * 1000) return;
    this.lastSealMs = performance.now();
    const time = BigInt(Date.now()) * 1_000_000n;
    const now = health();
    let sealed = false;
    for (const log of this.logs) sealed = log.seal(time, now) || sealed;
    if (sealed) key.evolve();
  }

  /** Per output, what it was given: "3 events to standard output (text), …". */
  summary(): string {
    const one = (w: Written) => `${w.events} events${w.findings ? ` and ${w.findings} finding${w.findings === 1 ? "" : "s"}` : ""} to ${w.label}`;
    return [...this.written.values()].map(one).join(", ");
  }

  /** Trailers (none after a failure: a log cut there reads as cut) and
   * closing; returns the first error, the one given or a new one. */
  finish(totals: Omit<Totals, "eventsInFile">, failure?: Error): Error | undefined {
    for (const sink of this.sinks) {
      try {
        sink.close();
      } catch (e) {
        failure ??= e as Error;
      }
    }
    for (const log of this.logs) {
      try {
        if (failure) log.abandon();
        else log.finish(totals);
      } catch (e) {
        failure ??= e as Error;
      }
    }
    this.sealKey?.destroy();
    return failure;
  }

  /** Closes everything, writing nothing more (capture never started). */
  close() {
    this.sinks.forEach((s) => s.close());
    this.logs.forEach((l) => l.abandon());
    this.sealKey?.destroy();
  }
}

/** The calls that change the kernel when they succeed: load, unload, kexec. */
const CHANGING_CALLS = new Set(EVENTS.filter((e) => e.kind === "syscall").map((e) => e.name));

/** What a rotated log must keep: a module the kernel took (module_load), or
 * a load, unload or kexec call that succeeded. Failed calls, anyone's to
 * make, are not. */
export function isEvidence(e: EventView): boolean {
  const name = e.eventName;
  return name === "module_load" || (CHANGING_CALLS.has(name) && e.returnValue === 0);
}

/** Per record of the batch, whether it is evidence; one flag per item. */
function evidenceOf(decoder: Decoder, len: number, records: number): Uint8Array {
  const flags = new Uint8Array(records);
  let i = 0;
  forEachRecord(decoder.inputView(len), len, 0n, (e) => {
    if (i < records) flags[i] = isEvidence(e) ? 1 : 0;
    i++;
  });
  // Records and items not one to one: keep the batch whole rather than guess.
  if (i !== records) flags.fill(flags.some((x) => x) ? 1 : 0);
  return flags;
}
