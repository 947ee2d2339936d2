import { readFileSync } from "node:fs";
import { makeRows, EVENT_COLUMNS } from "./common";
import wasmPath from "parquet-wasm/esm/parquet_wasm_bg.wasm" with { type: "file" };
import { initSync, Table as PTable, writeParquet, WriterPropertiesBuilder, Compression } from "parquet-wasm/esm";
import { tableToIPC, Table, vectorFromArray, Bool, Int32, Uint32, Int64, Uint64, Utf8 } from "apache-arrow";
initSync({ module: readFileSync(wasmPath) });
if (process.argv[2] === "noop") process.exit(0);
const rows = makeRows(process.argv[2], Number(process.argv[3]));
const T: any = { bool: () => new Bool(), int32: () => new Int32(), uint32: () => new Uint32(), int64: () => new Int64(), uint64: () => new Uint64(), string: () => new Utf8(), hex: () => new Utf8() };
const t = performance.now();
const cols: Record<string, any> = {};
EVENT_COLUMNS.forEach((c, i) => {
  const big = c.type === "int64" || c.type === "uint64";
  cols[c.name] = vectorFromArray(rows.map((r) => (r[i] === null ? null : big ? BigInt(r[i] as any) : r[i])), T[c.type]());
});
const table = new Table(cols);
const props = new WriterPropertiesBuilder().setCompression(Compression.ZSTD).build();
const bytes = writeParquet(PTable.fromIPCStream(tableToIPC(table, "stream")), props);
const s = (performance.now() - t) / 1000;

console.log(JSON.stringify({ lib: "parquet-wasm+apache-arrow (ZSTD)", rows: rows.length, seconds: s, rowsPerSec: Math.round(rows.length / s), bytes: bytes.length }));
