// modtrace's Parquet writer (rows/parquet.ts, hyparquet-writer, Snappy).
import { parquetBytes } from "../../rows/parquet";
import { EVENT_COLUMNS, report } from "./rows";

if (process.argv[2] !== "noop") report("hyparquet-writer", (rows) => parquetBytes(EVENT_COLUMNS, rows, { "modtrace.schemaVersion": "1" }));
