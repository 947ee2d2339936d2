// `modtrace findings LOGS…`: the trace rules over the events of cbor logs,
// through the same engine as a live capture, so the findings are exactly the
// ones capture made live. Findings of the kernel watches, which need the
// running kernel, are passed on as the capture recorded them.
import { readFileSync } from "node:fs";
import { findingsHeaderItem, trailerItem } from "../log/log-items";
import { sharedOrigin } from "../log/origin";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder, type DecodedFormat } from "../decoder/host";
import { checkReadable, readLog, type Problem } from "../log/reader";
import { RecordBatch } from "../record/record-batch";
import { reportProblems } from "../log/filter";
import { colourWanted, Sink, type ColourChoice, type OutputSpec } from "../output/outputs";
import { sayFindings } from "../findings/summary";
import { OfflineProgress } from "../log/progress";
import type { FindingsConfig } from "../findings/config";
import { FindingsEngine, ruleIds } from "../findings/engine";
import { findingFromItem, renderFinding } from "../findings/format";
import { atOrAbove, type Finding, type Severity } from "../findings/finding";

const BATCH = 1024;

export interface FindingsCommandOptions {
  files: string[];
  output: OutputSpec;
  config: FindingsConfig;
  failOn?: Severity;
  colour: ColourChoice;
}

/** A findings log's trailer: a clean end, no events, the findings per rule
 * (the engine's counts, which unlike its kept list are never cut). */
function findingsTrailer(passed: Finding[], counts: Map<string, number>): Uint8Array {
  const perRule: Record<string, number> = Object.fromEntries(counts);
  for (const f of passed) perRule[f.rule] = (perRule[f.rule] ?? 0) + 1;
  return trailerItem({
    endNs: BigInt(Date.now()) * 1_000_000n, eventsInFile: 0, counts: {}, written: 0,
    lostRingbuf: 0, lostPriority: 0, lostInflight: 0, filtered: 0, findings: perRule,
  });
}

export async function findingsCommand(opts: FindingsCommandOptions): Promise<number> {
  checkReadable(opts.files);
  const decoder = await Decoder.load(readFileSync(wasmPath));
  decoder.setClockOffset(0n);
  const engine = new FindingsEngine(opts.config);
  const traceRules = new Set(ruleIds());
  const sink = Sink.open(opts.output);
  // As CBOR, a log of findings that modtrace reads back (findingsHeaderItem).
  if (opts.output.format === "cbor") sink.write(findingsHeaderItem(BigInt(Date.now()) * 1_000_000n, opts.files, process.argv.slice(2), sharedOrigin(opts.files)));
  const colour = colourWanted(opts.output, opts.colour);
  const format = opts.output.format as DecodedFormat;
  // Findings are few and far between in a big log: progress shows until
  // each is written, and comes back below it.
  const progress = OfflineProgress.start("findings", opts.files);
  const write = (list: Finding[]) => {
    if (list.length && !opts.output.path) progress?.clear();
    list.forEach((f) => sink.write(renderFinding(f, format, colour)));
  };
  const problems: Problem[] = [];
  const passed: Finding[] = [];
  const pending = new RecordBatch(BATCH);

  const flush = () => {
    const len = pending.put(decoder);
    // read's clock: boot time is wall time.
    if (len) write(engine.feed(decoder, len, 0n));
  };

  try {
    for (const file of opts.files) {
      // A findings log's findings have no events behind them in it: passed on whole.
      let findingsLog = false;
      for (const item of readLog(file, problems, { records: decoder })) {
        progress?.item(file, item.offset, item.kind === "record" || item.kind === "records", item.kind === "records" ? item.count : 1);
        // A findings log, or a capture's with --findings-only (findings, no
        // events to judge anew): every finding in it is passed on.
        if (item.kind === "header") findingsLog = Array.isArray(item.value.findingsOf) || (Array.isArray(item.value.commandLine) && item.value.commandLine.includes("--findings-only"));
        if (item.kind === "record" || item.kind === "records") {
          if (item.kind === "record") pending.take(item.record, 1, flush);
          else pending.take(item.records, item.count, flush);
        } else if (item.kind === "finding" && (findingsLog || !traceRules.has(item.value.eventName))) {
          flush();
          const f = findingFromItem(item.value);
          passed.push(f);
          write([f]);
        }
      }
    }
    flush();
    write(engine.end());
    if (opts.output.format === "cbor") sink.write(findingsTrailer(passed, engine.counts));
  } finally {
    progress?.end();
    sink.close();
  }
  sayFindings([...passed, ...engine.all], passed.length + engine.total, false);
  const status = reportProblems(problems);
  const failing = opts.failOn ? engine.atLeast(opts.failOn) + passed.filter((f) => atOrAbove(f.severity, opts.failOn!)).length : 0;
  if (failing > 0) {
    process.stderr.write(`modtrace: exit 3: findings at or above ${opts.failOn} (--fail-on)\n`);
    return 3;
  }
  return status;
}
