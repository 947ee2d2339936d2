// `modtrace read -o rows|captures|findings|parquet`: logs to the flat tables
// of rows/schema.ts: events through the decoder's row format
// (rows/event-rows.ts), findings and captures from the log's maps.
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { checkReadable, readLog, type Problem } from "../log/reader";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder } from "../decoder/host";
import { findingMatches, matches, readsMaps, reportProblems, type EventFilter } from "../log/filter";
import { makeDirectory, Sink, UsageError, type OutputSpec } from "../output/outputs";
import { CaptureRows, type LogFileSummary } from "./captures";
import { contextOf, Reporter, type Row } from "./flatten";
import { jsonLineWriter } from "./json-rows";
import { ParquetStream } from "./parquet";
import { EventRows } from "./event-rows";
import { FindingRows } from "./finding-rows";
import { OfflineProgress } from "../log/progress";
import { grouped } from "../output/status-line";
import { logKey, writeUnion } from "./union-file";
import { CAPTURE_COLUMNS, EVENT_COLUMNS, FINDING_COLUMNS, SCHEMA_VERSION } from "./schema";

export interface TableReadOptions {
  files: string[];
  output: OutputSpec;
  filter: EventFilter;
}

/** Where each log's Parquet file goes: DIR/<host>/<log name>.parquet, so a
 * fleet's logs, which share names (events.cbor) across hosts, do not collide;
 * a name used twice in one run gets -2, -3… rather than overwrite. */
class ParquetNames {
  private used = new Set<string>();
  constructor(private dir: string) {}

  next(file: string, host: string): string {
    const folder = join(this.dir, host.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.*$/, "") || "unknown-host");
    const stem = basename(file).replace(/\.cbor$/, "");
    let name = join(folder, `${stem}.parquet`);
    for (let n = 2; this.used.has(name); n++) name = join(folder, `${stem}-${n}.parquet`);
    this.used.add(name);
    return name;
  }
}

function openDirectory(dir: string) {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`-o parquet:${dir}: ${dir} is not a directory (parquet writes one file per log into a directory)`);
  makeDirectory(dir, `parquet output ${dir}`);
}

/** One log's events as a Parquet file, opened at its first row (or at the
 * end, for a log without any): its name needs the header's host. */
class EventFile {
  private sink?: Sink;
  private stream?: ParquetStream;
  name?: string;

  constructor(private readonly open: () => string, private readonly overwrite?: boolean) {}

  push(row: Row) {
    this.opened().push(row);
  }

  get rows(): number {
    return this.stream?.count ?? 0;
  }

  finish(metadata: Record<string, string>) {
    try {
      this.opened().finish(metadata);
    } finally {
      this.sink?.close();
    }
  }

  /** A file left without its footer (the read failed) is no Parquet file: removed. */
  abandon() {
    if (!this.sink) return;
    this.sink.close();
    rmSync(this.name!, { force: true });
  }

  private opened(): ParquetStream {
    if (!this.stream) {
      this.name = this.open();
      const sink = (this.sink = Sink.open({ format: "parquet", path: this.name, overwrite: this.overwrite }));
      this.stream = new ParquetStream(EVENT_COLUMNS, (bytes) => sink.write(bytes));
    }
    return this.stream;
  }
}

const text = new TextEncoder();

export async function readTables(opts: TableReadOptions): Promise<number> {
  checkReadable(opts.files);
  const { format, path } = opts.output;
  if (format === "parquet") openDirectory(path!);
  const parquetNames = new ParquetNames(path ?? "");
  const reporter = new Reporter();
  const captures = new CaptureRows(reporter);
  const findings = new FindingRows(reporter);
  const problems: Problem[] = [];
  const sink = format === "parquet" ? undefined : Sink.open(opts.output);
  const captureLine = jsonLineWriter(CAPTURE_COLUMNS);
  const findingLine = jsonLineWriter(FINDING_COLUMNS);
  const captureRows: Row[] = [];
  const findingRows: Row[] = [];
  const converted = new Set<string>();
  let parquet: EventFile | undefined; // the log being read's
  // Events' rows straight from their records, in WebAssembly.
  const eventRows =
    format === "rows" || format === "parquet"
      ? new EventRows(await Decoder.load(readFileSync(wasmPath)), opts.filter, format === "rows" ? { lines: (bytes) => sink!.write(bytes) } : { rows: (row) => parquet!.push(row) }, reporter)
      : undefined;
  // Events as records unless a filter needs what only their maps say as they say it.
  const reading = eventRows ? { records: readsMaps(opts.filter) ? (true as const) : eventRows.decoder } : {};

  const progress = OfflineProgress.start(`read -o ${format}`, opts.files, !path && Boolean(process.stdout.isTTY));
  try {
    for (const file of opts.files) {
      const before = problems.length;
      const summary: LogFileSummary = { file, rowsRead: 0, problems: [] };
      let ctx = contextOf(undefined);
      eventRows?.startLog(ctx);
      const rowsBefore = eventRows?.count ?? 0;
      parquet = format === "parquet" ? new EventFile(() => parquetNames.next(file, ctx.host), opts.output.overwrite) : undefined;
      let pending = "";
      try {
      for (const item of readLog(file, problems, reading)) {
        progress?.item(file, item.offset, item.kind === "event" || item.kind === "record" || item.kind === "records", item.kind === "records" ? item.count : 1);
        if (item.kind === "header") {
          summary.header ??= item.value;
          ctx = contextOf(item.value);
          eventRows?.startLog(ctx);
        } else if (eventRows?.take(item)) continue;
        else if (item.kind === "trailer") summary.trailer = item.value;
        else if (item.kind === "finding" && findingMatches(item.value, opts.filter)) {
          if (format === "findings") pending += findingLine(findings.row(item.value, ctx, file));
          else if (format === "parquet") findingRows.push(findings.row(item.value, ctx, file));
          if (pending.length > 1 << 20) {
            sink!.write(text.encode(pending));
            pending = "";
          }
        } else if (item.kind === "event" && matches(item.value, opts.filter)) summary.rowsRead++; // captures and findings count them
      }
      } catch (e) {
        parquet?.abandon();
        throw e;
      }
      if (pending) sink!.write(text.encode(pending));
      if (eventRows) {
        eventRows.flush();
        summary.rowsRead = eventRows.count - rowsBefore;
      }
      summary.problems = problems.slice(before);
      const capture = captures.row(summary);
      captureRows.push(capture);
      converted.add(logKey(ctx.host, basename(file)));
      if (format === "captures") sink!.write(text.encode(captureLine(capture)));
      if (parquet) {
        parquet.finish(fileMetadata(summary));
        progress?.step(`wrote ${grouped(parquet.rows)} rows to ${parquet.name}`);
      }
    }
    if (format === "parquet") {
      await writeUnion(path!, "captures", CAPTURE_COLUMNS, captureRows, converted);
      await writeUnion(path!, "findings", FINDING_COLUMNS, findingRows, converted);
    }
  } finally {
    progress?.end();
    sink?.close();
  }
  return reportProblems(problems);
}

const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? String(x) : x instanceof Uint8Array ? Buffer.from(x).toString("hex") : x));

/** Each Parquet file carries its log's header and trailer as they were. */
function fileMetadata(s: LogFileSummary): Record<string, string> {
  return {
    "modtrace.schemaVersion": String(SCHEMA_VERSION),
    "modtrace.log": basename(s.file),
    ...(s.header && { "modtrace.header": json(s.header) }),
    ...(s.trailer && { "modtrace.trailer": json(s.trailer) }),
  };
}
