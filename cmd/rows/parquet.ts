// Rows as a Parquet file, written by hyparquet-writer (pure JavaScript, so it
// compiles into the single binary as is; see docs/ANALYSIS.md for why not
// parquet-wasm). 64-bit columns are INT64 (UINT_64 when unsigned), 32-bit
// ones INT32 (UINT_32), bool BOOLEAN, text and hex UTF-8 byte arrays.
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import type { Column, ColumnType } from "./schema";
import type { Row } from "./flatten";

const PHYSICAL: Record<ColumnType, object> = {
  bool: { type: "BOOLEAN" },
  int32: { type: "INT32" },
  uint32: { type: "INT32", converted_type: "UINT_32" },
  int64: { type: "INT64" },
  uint64: { type: "INT64", converted_type: "UINT_64" },
  string: { type: "BYTE_ARRAY", converted_type: "UTF8" },
  hex: { type: "BYTE_ARRAY", converted_type: "UTF8" },
};

const is64 = (t: ColumnType) => t === "int64" || t === "uint64";

export function parquetSchema(columns: Column[]) {
  return [
    { name: "root", num_children: columns.length },
    ...columns.map((c) => ({ name: c.name, repetition_type: c.required ? "REQUIRED" : "OPTIONAL", ...PHYSICAL[c.type] })),
  ];
}

/** The Parquet file's bytes; metadata goes into the footer's key-value metadata. */
export function parquetBytes(columns: Column[], rows: Row[], metadata: Record<string, string>): Uint8Array {
  const columnData = columns.map((c, i) => {
    const data = new Array(rows.length);
    // hyparquet-writer takes INT64 values as bigint only.
    if (is64(c.type)) for (let r = 0; r < rows.length; r++) data[r] = rows[r][i] === null ? null : BigInt(rows[r][i] as number | bigint);
    else for (let r = 0; r < rows.length; r++) data[r] = rows[r][i];
    return { name: c.name, data };
  });
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData,
    schema: parquetSchema(columns) as any,
    rowGroupSize: 100_000,
    kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    createdBy: "modtrace",
  });
  return new Uint8Array(writer.getBuffer());
}
