// Rows as a Parquet file, written by hyparquet-writer (pure JavaScript, so it
// compiles into the single binary as is; see docs/ANALYSIS.md for why not
// parquet-wasm). 64-bit columns are INT64 (UINT_64 when unsigned), 32-bit
// ones INT32 (UINT_32), bool BOOLEAN, text and hex UTF-8 byte arrays. A
// log's events are written a row group at a time (ParquetStream), so memory
// holds one group whatever the log's size.
import { ByteWriter, ParquetWriter, parquetWrite } from "hyparquet-writer";
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

// Rows per group: each group's values and their encoding are held at once
// (some 20 KiB a row while hyparquet-writer encodes it), so 5,000 keeps a
// read under 256 MiB (a 224 MB log: 198 MiB at its peak, in the same time);
// 10,000 took 263 MiB, 100,000 1.3 GiB. Readers take small groups well.
const ROW_GROUP = 5_000;

// Each row group's min and max per column stay in memory until the footer
// is written: with them on every column, a 2.2 GB log (400 groups) peaked at
// 368 MiB where the 224 MB one took 207. The columns a query most often
// selects by keep theirs (readers skip row groups by them); the others do
// without.
const WITH_STATISTICS = new Set(["host", "timestamp", "eventName", "hostProcessId", "processName", "moduleName"]);

function withStatistics(c: Column): boolean {
  return WITH_STATISTICS.has(c.name);
}

/** The rows as hyparquet-writer's columns. */
function columnData(columns: Column[], rows: Row[]) {
  return columns.map((c, i) => {
    const data = new Array(rows.length);
    // hyparquet-writer takes INT64 values as bigint only.
    if (is64(c.type)) for (let r = 0; r < rows.length; r++) data[r] = rows[r][i] === null ? null : BigInt(rows[r][i] as number | bigint);
    else for (let r = 0; r < rows.length; r++) data[r] = rows[r][i];
    return { name: c.name, data };
  });
}

/** A ByteWriter that hands its bytes on after each row group. */
class PassingWriter extends ByteWriter {
  constructor(private readonly out: (bytes: Uint8Array) => void) {
    super(1 << 20);
  }

  flush() {
    this.out(this.getBytes().slice());
    this.index = 0;
  }

  finish() {
    this.flush();
  }
}

/** One Parquet file written as rows come: a row group each ROW_GROUP rows,
 * gathered straight into columns (the rows themselves are not kept). */
export class ParquetStream {
  private readonly writer: ParquetWriter;
  private data: unknown[][];
  private readonly wide: boolean[];
  private readonly statistics: boolean[];
  count = 0;

  constructor(private readonly columns: Column[], out: (bytes: Uint8Array) => void) {
    this.writer = new ParquetWriter({ writer: new PassingWriter(out), schema: parquetSchema(columns) as any, createdBy: "modtrace" });
    this.wide = columns.map((c) => is64(c.type));
    this.statistics = columns.map(withStatistics);
    this.data = columns.map(() => []);
  }

  push(row: Row) {
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      // hyparquet-writer takes INT64 values as bigint only.
      this.data[i].push(this.wide[i] && v !== null ? BigInt(v as number | bigint) : v);
    }
    this.count++;
    if (this.data[0].length >= ROW_GROUP) this.group();
  }

  /** The last group, then the footer with `metadata` (known only at the end: the log's trailer). */
  finish(metadata: Record<string, string>) {
    this.group();
    this.writer.kvMetadata = Object.entries(metadata).map(([key, value]) => ({ key, value }));
    this.writer.finish();
  }

  private group() {
    if (!this.data[0]?.length) return;
    this.writer.write({ columnData: this.columns.map((c, i) => ({ name: c.name, data: this.data[i], statistics: this.statistics[i] })), rowGroupSize: ROW_GROUP });
    this.data = this.columns.map(() => []);
    // A group's values and its encoding are garbage now: collected before the
    // next group grows, so memory holds one group, not several. The reader's
    // own collection every 16 MiB read is not enough alone: without this one
    // a 224 MB log peaked at 205-219 MiB but bench/offline.ts's 265 MB log at
    // 266 MiB (with it: 233 MiB), though it costs up to a third of the time.
    Bun.gc(true);
  }
}

/** The Parquet file's bytes; metadata goes into the footer's key-value metadata. */
export function parquetBytes(columns: Column[], rows: Row[], metadata: Record<string, string>): Uint8Array {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData: columnData(columns, rows),
    schema: parquetSchema(columns) as any,
    rowGroupSize: ROW_GROUP,
    kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    createdBy: "modtrace",
  });
  return new Uint8Array(writer.getBuffer());
}
