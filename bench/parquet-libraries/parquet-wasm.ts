// The alternative: Arrow vectors (apache-arrow) written by parquet-wasm with
// ZSTD; its WebAssembly embedded in the binary and instantiated at start-up.
import { readFileSync } from "node:fs";
import wasmPath from "parquet-wasm/esm/parquet_wasm_bg.wasm" with { type: "file" };
import { Compression, initSync, Table as ParquetTable, writeParquet, WriterPropertiesBuilder } from "parquet-wasm/esm";
import { Bool, Int32, Int64, Table, tableToIPC, Uint32, Uint64, Utf8, vectorFromArray } from "apache-arrow";
import { EVENT_COLUMNS, report } from "./rows";

initSync({ module: readFileSync(wasmPath) });

const ARROW: Record<string, () => any> = {
  bool: () => new Bool(), int32: () => new Int32(), uint32: () => new Uint32(), int64: () => new Int64(),
  uint64: () => new Uint64(), string: () => new Utf8(), hex: () => new Utf8(),
};

if (process.argv[2] !== "noop")
  report("parquet-wasm + apache-arrow (ZSTD)", (rows) => {
    const columns: Record<string, any> = {};
    EVENT_COLUMNS.forEach((c, i) => {
      const big = c.type === "int64" || c.type === "uint64";
      columns[c.name] = vectorFromArray(rows.map((r) => (r[i] === null ? null : big ? BigInt(r[i] as number | bigint) : r[i])), ARROW[c.type]());
    });
    const props = new WriterPropertiesBuilder().setCompression(Compression.ZSTD).build();
    return writeParquet(ParquetTable.fromIPCStream(tableToIPC(new Table(columns), "stream")), props);
  });
