// `read -o rows`'s and `-o parquet`'s events: a log's records, as the
// reader rebuilds them, into the decoder's row format
// (decoder/assembly/row.ts), which writes each event as one line of the
// events table in WebAssembly; no map per event. The log header's columns
// begin every line of that log; Parquet reads the values back from where
// the lines hold them (rows/row-values.ts). An event
// the reader hands over with its map (one the WebAssembly rebuild left to
// the TypeScript one: an unusual map, maybe from a newer modtrace, or every
// event when a filter reads the maps) gets its row from that map
// (rows/flatten.ts), which reports each field the schema lacks and each
// value that does not fit its column.
import type { Decoder } from "../decoder/host";
import type { LogItem } from "../log/reader";
import { matches, matchingRecords, type EventFilter } from "../log/filter";
import { RecordBatch } from "../record/record-batch";
import { RowBuilder, type LogContext, type Reporter, type Row } from "./flatten";
import { jsonLineWriter, logHeaderValues, rowPrefix } from "./json-rows";
import { rowsAt } from "./row-values";
import { EVENT_COLUMNS } from "./schema";

const BATCH = 1024;
const line = jsonLineWriter(EVENT_COLUMNS);
const text = new TextEncoder();

/** Where rows go: as JSON lines (-o rows), or as typed rows (Parquet). */
export type RowsOut = { lines: (bytes: Uint8Array) => void } | { rows: (row: Row) => void };

export class EventRows {
  private readonly pending = new RecordBatch(BATCH);
  private readonly fromMaps: RowBuilder;
  private ctx?: LogContext;
  private header: Row = [];
  /** Events written (after the filter), for the captures table. */
  count = 0;

  constructor(
    readonly decoder: Decoder,
    private readonly filter: EventFilter,
    private readonly out: RowsOut,
    reporter: Reporter,
  ) {
    this.fromMaps = new RowBuilder(EVENT_COLUMNS, reporter);
    decoder.setClockOffset(0n);
    decoder.wantRowSpans("rows" in out);
  }

  /** A log's header read: its rows start with its columns (the lines before it are written first). */
  startLog(ctx: LogContext) {
    this.flush();
    this.ctx = ctx;
    this.header = logHeaderValues(ctx);
    this.decoder.setRowPrefix(rowPrefix(ctx));
  }

  /** A reader's item: its events (record or records) that pass the filter become rows; false for any other item. */
  take(item: LogItem): boolean {
    if (item.kind === "record") {
      if (!matches(item.value, this.filter)) return true;
      this.flush(); // the rows before it first
      this.count++;
      const row = this.fromMaps.row(item.value, this.ctx!);
      if ("rows" in this.out) this.out.rows(row);
      else this.out.lines(text.encode(line(row)));
    } else if (item.kind === "records") for (const [records, count] of matchingRecords(item.records, item.count, this.filter)) this.add(records, count);
    else return false;
    return true;
  }

  flush = () => {
    const count = this.pending.count;
    const len = this.pending.put(this.decoder);
    if (!len) return;
    const bytes = this.decoder.decode(len, "row");
    if ("rows" in this.out) rowsAt(bytes, this.decoder.rowSpans(count), count, this.header, this.out.rows);
    else this.out.lines(bytes);
  };

  private add(records: Uint8Array, count: number) {
    this.count += count;
    this.pending.take(records, count, this.flush);
  }
}
