// DIR/captures.parquet and DIR/findings.parquet are the union of every
// `read -o parquet:DIR` into DIR: a fleet converts its logs in batches, and a
// second batch must not drop the first batch's rows (their losses and
// verdicts are what these tables are for). The rows already there are kept;
// a log converted again (the same host and file name) has its rows replaced.
// Written whole to a new file, then renamed over the old one, so a failure
// leaves the old table as it was.
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { OutputError, Sink } from "../output/outputs";
import { randomHex } from "../output/output-file";
import type { Row } from "./flatten";
import { parquetBytes } from "./parquet";
import { SCHEMA_VERSION, type Column } from "./schema";

/** A converted log: the key its rows are replaced by. */
export const logKey = (host: unknown, file: unknown) => `${host}\0${file}`;

/** The rows of an existing table file, in this schema's columns (null where an older one lacks one). */
async function existingRows(path: string, columns: Column[]): Promise<Row[]> {
  const bytes = readFileSync(path);
  try {
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
    return rows.map((r) => columns.map((c) => (r[c.name] ?? null) as Row[number]));
  } catch (e: any) {
    throw new OutputError(`${path} is there but is not a Parquet file modtrace can read (${e?.message ?? e}): move it away, or convert into another directory`);
  }
}

/** Writes DIR/NAME.parquet: the rows there of logs not in `converted`, then `fresh`. */
export async function writeUnion(dir: string, name: string, columns: Column[], fresh: Row[], converted: Set<string>): Promise<void> {
  const path = join(dir, `${name}.parquet`);
  const host = columns.findIndex((c) => c.name === "host");
  const file = columns.findIndex((c) => c.name === "file");
  const kept = existsSync(path) ? (await existingRows(path, columns)).filter((r) => !converted.has(logKey(r[host], r[file]))) : [];
  const temporary = join(dirname(path), `.${name}.parquet.${randomHex(6)}`);
  const sink = Sink.open({ format: "parquet", path: temporary });
  try {
    try {
      sink.write(parquetBytes(columns, [...kept, ...fresh], { "modtrace.schemaVersion": String(SCHEMA_VERSION) }));
    } finally {
      sink.close();
    }
    renameSync(temporary, path);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw e;
  }
}
