import { makeRows, EVENT_COLUMNS } from "./common";
import { parquetBytes } from "../../cmd/rows/parquet";
if (process.argv[2] === "noop") process.exit(0);
const rows = makeRows(process.argv[2], Number(process.argv[3]));
const t = performance.now();
const bytes = parquetBytes(EVENT_COLUMNS, rows, { a: "b" });
const s = (performance.now() - t) / 1000;

console.log(JSON.stringify({ lib: "hyparquet-writer", rows: rows.length, seconds: s, rowsPerSec: Math.round(rows.length / s), bytes: bytes.length }));
