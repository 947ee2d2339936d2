// A row as one line of JSON (JSONEachRow, NDJSON): every column, null where
// the event has no such field, 64-bit integers as exact decimal digits.
import type { Column } from "./schema";
import type { Row, Value } from "./flatten";

export function jsonLineWriter(columns: Column[]): (row: Row) => string {
  const keys = columns.map((c, i) => (i ? "," : "{") + JSON.stringify(c.name) + ":");
  const value = (v: Value) => (v === null ? "null" : typeof v === "string" ? JSON.stringify(v) : String(v));
  return (row) => {
    let s = "";
    for (let i = 0; i < keys.length; i++) s += keys[i] + value(row[i]);
    return s + "}\n";
  };
}
