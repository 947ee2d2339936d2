// A row as one line of JSON (JSONEachRow, NDJSON): every column, null where
// the event has no such field, 64-bit integers as exact decimal digits.
import { LOG_HEADER_COLUMNS, SCHEMA_VERSION, type Column } from "./schema";
import type { LogContext, Row, Value } from "./flatten";

export function jsonLineWriter(columns: Column[]): (row: Row) => string {
  const keys = columns.map((c, i) => (i ? "," : "{") + JSON.stringify(c.name) + ":");
  const value = (v: Value) => (v === null ? "null" : typeof v === "string" ? JSON.stringify(v) : String(v));
  return (row) => {
    let s = "";
    for (let i = 0; i < keys.length; i++) s += keys[i] + value(row[i]);
    return s + "}\n";
  };
}

const headerLine = jsonLineWriter(LOG_HEADER_COLUMNS);

/** The values of the log header's columns (LOG_HEADER_COLUMNS), which every row of the log shares. */
export function logHeaderValues(ctx: LogContext): Row {
  return [SCHEMA_VERSION, ctx.host, ctx.kernel, ctx.bootTime];
}

/** How every row of a log starts, `{` and the log header's columns: the
 * decoder's row format (decoder/assembly/row.ts) writes the rest. */
export function rowPrefix(ctx: LogContext): Uint8Array {
  const line = headerLine(logHeaderValues(ctx));
  return new TextEncoder().encode(line.slice(0, line.length - 2)); // without "}\n"
}
