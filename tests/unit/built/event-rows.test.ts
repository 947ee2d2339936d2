// The decoder's row format (decoder/assembly/row.ts, `read -o rows` and
// live -o rows) against the rows the same events' maps give through
// rows/flatten.ts (which Parquet still uses): two ways to one line of the
// events table, by the one rule of rows/schema.ts. On real logs the lines
// are the same bytes, filtered or not; on events whose strings hold quotes,
// backslashes, controls and non-ASCII text the lines hold the same values.
// Parquet's typed rows, read back from where the lines hold each value
// (rows/row-values.ts), are the maps' rows value for value.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Decoder, layout } from "../../../decoder/host";
import { readLog, type Problem } from "../../../log/reader";
import { writeRecord } from "../../../record/records";
import { contextOf, Reporter, RowBuilder, type Row } from "../../../rows/flatten";
import { jsonLineWriter, rowPrefix } from "../../../rows/json-rows";
import { EventRows } from "../../../rows/event-rows";
import { rowsAt } from "../../../rows/row-values";
import { EVENT_COLUMNS } from "../../../rows/schema";
import type { EventFilter } from "../../../log/filter";
import { FIXTURE_LOGS } from "../../lib/fixture-logs";

const LOGS = FIXTURE_LOGS;

let decoder: Decoder;
// Events that came to rowsFromRecords as records: the WebAssembly row path taken.
let inRuns = 0;
beforeAll(async () => {
  decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
});

const line = jsonLineWriter(EVENT_COLUMNS);

/** The log's rows from its event maps, through rows/flatten.ts. */
function rowsFromMaps(file: string, keep: (e: any) => boolean = () => true): string {
  let ctx = contextOf(undefined);
  const builder = new RowBuilder();
  let out = "";
  for (const item of readLog(file, [])) {
    if (item.kind === "header") ctx = contextOf(item.value);
    else if (item.kind === "event" && keep(item.value)) out += line(builder.row(item.value, ctx));
  }
  return out;
}

/** The log's rows as read -o rows makes them: records, in the decoder's row
 * format (the events the rebuild leaves to TypeScript from their maps). */
function rowsFromRecords(file: string, filter: EventFilter = { pids: [], comms: [] }): string {
  const chunks: Buffer[] = [];
  const rows = new EventRows(decoder, filter, { lines: (b) => chunks.push(Buffer.from(b)) }, new Reporter());
  const problems: Problem[] = [];
  rows.startLog(contextOf(undefined));
  for (const item of readLog(file, problems, { records: decoder })) {
    if (item.kind === "header") rows.startLog(contextOf(item.value));
    else {
      if (item.kind === "records") inRuns += item.count;
      rows.take(item);
    }
  }
  rows.flush();
  return Buffer.concat(chunks).toString();
}

describe("rows from records", () => {
  test.each(LOGS)("%s: the same lines as from its maps", (file) => {
    const fromMaps = rowsFromMaps(file);
    expect(fromMaps.length).toBeGreaterThan(0);
    inRuns = 0;
    expect(rowsFromRecords(file)).toBe(fromMaps);
    expect(inRuns).toBeGreaterThan(fromMaps.split("\n").length / 2);
  });

  test.each(LOGS)("%s: Parquet's typed rows, the same values as from its maps", (file) => {
    const fromMaps: Row[] = [];
    let ctx = contextOf(undefined);
    const builder = new RowBuilder();
    for (const item of readLog(file, [])) {
      if (item.kind === "header") ctx = contextOf(item.value);
      else if (item.kind === "event") fromMaps.push(builder.row(item.value, ctx));
    }
    const typed: Row[] = [];
    const rows = new EventRows(decoder, { pids: [], comms: [] }, { rows: (r) => typed.push(r) }, new Reporter());
    rows.startLog(contextOf(undefined));
    for (const item of readLog(file, [], { records: decoder })) {
      if (item.kind === "header") rows.startLog(contextOf(item.value));
      else rows.take(item);
    }
    rows.flush();
    decoder.wantRowSpans(false);
    // As Parquet writes them: 64-bit columns as BigInt.
    const exact = (r: Row) => r.map((v, i) => (v !== null && (EVENT_COLUMNS[i].type === "int64" || EVENT_COLUMNS[i].type === "uint64") ? BigInt(v as number) : v));
    expect(typed.length).toBe(fromMaps.length);
    expect(typed.map(exact)).toEqual(fromMaps.map(exact));
  });

  test("filtered: the events the filter keeps, the same lines", () => {
    const file = LOGS[2];
    const keep = (e: any) => e.eventName === "finit_module";
    const fromMaps = rowsFromMaps(file, keep);
    expect(fromMaps.length).toBeGreaterThan(0);
    expect(rowsFromRecords(file, { events: new Set(["finit_module"]), pids: [], comms: [] })).toBe(fromMaps);
  });

  test("strings with quotes, backslashes, controls and other scripts: the same values", () => {
    const odd = ['a"b\\c', "line\nbreak\ttab\u0001", "Grüße, 模块 \u2028 done"];
    let ctx = contextOf(undefined);
    let tried = 0;
    for (const item of readLog(LOGS[2], [])) {
      if (item.kind === "header") ctx = contextOf(item.value);
      if (item.kind !== "event") continue;
      for (const text of odd) {
        const e: any = structuredClone(item.value);
        e.processName = text.slice(0, 15);
        if (e.executable) e.executable.path = `/tmp/${text}`;
        if (e.ancestors?.[0]?.executable) e.ancestors[0].executable.path = `/opt/${text}`;
        for (const a of e.args) if (a.type === "const char*" && typeof a.value === "string") a.value = text;
        const bytes = new Uint8Array(layout.RECORD_MAX);
        const len = writeRecord(e, new DataView(bytes.buffer), bytes, 0);
        // The map as the record gives it back: its strings are what the record holds.
        decoder.inputView(len).set(bytes.subarray(0, len));
        const asDecoded = JSON.parse(Buffer.from(decoder.decode(len, "json")).toString());
        decoder.setRowPrefix(rowPrefix(ctx));
        decoder.inputView(len).set(bytes.subarray(0, len));
        decoder.wantRowSpans(true);
        const rowBytes = decoder.decode(len, "row");
        const fromRecord = parseRow(Buffer.from(rowBytes).toString());
        const mapRow = new RowBuilder().row(asDecoded, ctx);
        const fromMap = parseRow(line(mapRow));
        expect(fromRecord).toEqual(fromMap);
        // Parquet's values, read from their places in the line: the map's (its JSON-text column aside, as above).
        const typed: Row[] = [];
        rowsAt(rowBytes, decoder.rowSpans(1), 1, mapRow.slice(0, 4), (r) => typed.push(r));
        decoder.wantRowSpans(false);
        const ancestors = EVENT_COLUMNS.findIndex((c) => c.name === "ancestors");
        const plain = (r: Row) => r.map((v, i) => (i === ancestors && typeof v === "string" ? JSON.parse(v) : typeof v === "bigint" ? Number(v) : v));
        expect(plain(typed[0])).toEqual(plain(mapRow));
        // The odd text did reach the row (a command name is cut at 15 bytes, not characters).
        expect(fromRecord.executable_path).toBe(`/tmp/${text}`);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(10);
  });
});

/** A row's values, with its JSON-text columns parsed too (their escapes may be written either way). */
function parseRow(text: string): Record<string, unknown> {
  expect(text.endsWith("}\n")).toBe(true);
  expect(text.indexOf("\n")).toBe(text.length - 1);
  const row = JSON.parse(text);
  expect(Object.keys(row)).toEqual(EVENT_COLUMNS.map((c) => c.name));
  for (const [k, v] of Object.entries(row)) if (typeof v === "string" && v.startsWith("[")) row[k] = JSON.parse(v);
  return row;
}
