// `modtrace read`: a log (or a rotated set, in order) printed as capture
// would have printed it live, through the same decoder.
import { Encoder } from "cbor-x/encode";
import { readFileSync } from "node:fs";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder, type DecodedFormat } from "../decoder/host";
import { checkReadable, readLog, type Problem } from "../log/reader";
import { RecordBatch } from "../record/record-batch";
import { colourWanted, Sink, type ColourChoice, type OutputSpec } from "../output/outputs";
import { findingMatches, matches, matchingRecords, readsMaps, reportProblems, type EventFilter } from "../log/filter";
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
  // Events straight from their CBOR into records, but when a filter needs
  // what only their maps say as they say it (the command name, the container).
  const records = readsMaps(opts.filter) ? true : decoder;
  const pending = new RecordBatch(BATCH);
  let headerWritten = false;
  let lastTrailer: any;

  const flush = () => {
    const len = pending.put(decoder);
    if (len) sink.write(fitLines(decoder.decode(len, format), rowWidth(opts.output, Boolean(opts.wide))));
  };

  // Rows streaming to the terminal are their own sign of life.
  const progress = OfflineProgress.start("read", opts.files, !opts.output.path && Boolean(process.stdout.isTTY));
  try {
    if (format === "text") sink.write(fitLines(decoder.textHeader(), rowWidth(opts.output, Boolean(opts.wide))));
    for (const file of opts.files) {
      for (const item of readLog(file, problems, { records })) {
        progress?.item(file, item.offset, item.kind === "record" || item.kind === "records", item.kind === "records" ? item.count : 1);
        if (item.kind === "header" && format === "cbor" && !headerWritten) {
          sink.write(cbor.encode(withoutSeal(item.value)));
          headerWritten = true;
        } else if (item.kind === "trailer") lastTrailer = item.value;
        else if (item.kind === "finding" && findingMatches(item.value, opts.filter)) {
          // In order: the events before it first.
          flush();
          sink.write(renderFinding(findingFromItem(item.value), format, colour));
        } else if (item.kind === "record" && matches(item.value, opts.filter)) pending.take(item.record, 1, flush);
        else if (item.kind === "records") for (const [records, count] of matchingRecords(item.records, item.count, opts.filter)) pending.take(records, count, flush);
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
