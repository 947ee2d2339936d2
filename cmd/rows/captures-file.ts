// DIR/captures.parquet is the union of every `read -o parquet:DIR` into DIR:
// a fleet converts its logs in batches, and a second batch must not drop the
// first batch's rows (their losses are what the captures table is for). The
// rows already there are kept; a log converted again (the same host and file
// name) has its row replaced. Written whole to a new file, then renamed over
// the old one, so a failure leaves the old table as it was.
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { parquetReadObjects } from "hyparquet";
import { OutputError, Sink } from "../outputs";
import type { Row } from "./flatten";
import { parquetBytes } from "./parquet";
import { CAPTURE_COLUMNS, SCHEMA_VERSION } from "./schema";

const HOST = CAPTURE_COLUMNS.findIndex((c) => c.name === "host");
const FILE = CAPTURE_COLUMNS.findIndex((c) => c.name === "file");
const key = (host: unknown, file: unknown) => `${host}\0${file}`;

/** The rows of an existing captures file, in this schema's columns (null where an older one lacks one). */
async function existingRows(path: string): Promise<Row[]> {
  const bytes = readFileSync(path);
  try {
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
    return rows.map((r) => CAPTURE_COLUMNS.map((c) => (r[c.name] ?? null) as Row[number]));
  } catch (e: any) {
    throw new OutputError(`${path} is there but is not a Parquet file modtrace can read (${e?.message ?? e}): move it away, or convert into another directory`);
  }
}

export async function writeCaptures(dir: string, fresh: Row[]): Promise<void> {
  const path = join(dir, "captures.parquet");
  const replaced = new Set(fresh.map((r) => key(r[HOST], r[FILE])));
  const kept = existsSync(path) ? (await existingRows(path)).filter((r) => !replaced.has(key(r[HOST], r[FILE]))) : [];
  const temporary = join(dirname(path), `.captures.parquet.${randomBytes(6).toString("hex")}`);
  const sink = Sink.open({ format: "parquet", path: temporary });
  try {
    try {
      sink.write(parquetBytes(CAPTURE_COLUMNS, [...kept, ...fresh], { "modtrace.schemaVersion": String(SCHEMA_VERSION) }));
    } finally {
      sink.close();
    }
    renameSync(temporary, path);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw e;
  }
}
