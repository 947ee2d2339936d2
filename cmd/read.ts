// `modtrace read`: a log (or a rotated set, in order) printed as capture
// would have printed it live, through the same decoder.
import { Encoder } from "cbor-x/encode";
import { readFileSync } from "node:fs";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder, type DecodedFormat } from "../decoder/host";
import { checkReadable, readLog, type Problem } from "../log/reader";
import { writeRecords } from "../record/records";
import type { LoggedEvent } from "../record/generated/event";
import { colourWanted, Sink, type ColourChoice, type OutputSpec } from "../output/outputs";
import { findingMatches, matches, reportProblems, type EventFilter } from "../log/filter";
import { findingFromItem, renderFinding } from "../findings/format";
import { withoutSeal } from "../log/log-items";
import { fitLines, rowWidth } from "../output/terminal-width";
import { OfflineProgress } from "../log/progress";

const BATCH = 1024;
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

export interface ReadOptions {
  files: string[];
  output: OutputSpec;
  filter: EventFilter;
  colour: ColourChoice;
  /** --wide: whole text rows on a terminal too. */
  wide?: boolean;
}

export async function read(opts: ReadOptions): Promise<number> {
  checkReadable(opts.files);
  const decoder = await Decoder.load(readFileSync(wasmPath));
  decoder.setClockOffset(0n);
  const format = opts.output.format as DecodedFormat;
  const sink = Sink.open(opts.output);
  const colour = colourWanted(opts.output, opts.colour);
  const problems: Problem[] = [];
  let pending: LoggedEvent[] = [];
  let headerWritten = false;
  let lastTrailer: any;

  const flush = () => {
    const len = writeRecords(pending, decoder, BATCH);
    if (pending.length) sink.write(fitLines(decoder.decode(len, format), rowWidth(opts.output, Boolean(opts.wide))));
    pending = [];
  };

  // Rows streaming to the terminal are their own sign of life.
  const progress = OfflineProgress.start("read", opts.files, !opts.output.path && Boolean(process.stdout.isTTY));
  try {
    if (format === "text") sink.write(fitLines(decoder.textHeader(), rowWidth(opts.output, Boolean(opts.wide))));
    for (const file of opts.files) {
      for (const item of readLog(file, problems, undefined, true)) {
        progress?.item(file, item.offset, item.kind === "event");
        if (item.kind === "header" && format === "cbor" && !headerWritten) {
          sink.write(cbor.encode(withoutSeal(item.value)));
          headerWritten = true;
        } else if (item.kind === "trailer") lastTrailer = item.value;
        else if (item.kind === "finding" && findingMatches(item.value, opts.filter)) {
          // In order: the events before it first.
          flush();
          sink.write(renderFinding(findingFromItem(item.value), format, colour));
        } else if (item.kind === "event" && matches(item.value, opts.filter)) {
          pending.push(item.value);
          if (pending.length === BATCH) flush();
        }
      }
    }
    flush();
    if (format === "cbor" && lastTrailer) sink.write(cbor.encode(withoutSeal(lastTrailer)));
  } finally {
    progress?.end();
    sink.close();
  }
  return reportProblems(problems);
}
