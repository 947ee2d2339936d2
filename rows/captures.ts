// One row per log file for the captures table: its header and trailer, so
// the attach modes and the exact loss counts travel with the events.
import { basename } from "node:path";
import type { Problem } from "../log/reader";
import { asJson, contextOf, RowBuilder, type Reporter, type Row } from "./flatten";
import { CAPTURE_COLUMNS } from "./schema";

export interface LogFileSummary {
  file: string;
  header?: any;
  trailer?: any;
  rowsRead: number;
  problems: Problem[];
}

/** Nested header and trailer values as JSON text, integers exact. */
const nested = (v: unknown) => (typeof v === "object" && v !== null && !(v instanceof Uint8Array) ? asJson(v) : v);

// Header and trailer keys that are not columns: what the log item is, not what it says.
const FRAMING = new Set(["format", "trailer"]);

export class CaptureRows {
  private rows: RowBuilder;

  constructor(reporter: Reporter) {
    this.rows = new RowBuilder(CAPTURE_COLUMNS, reporter);
  }

  row(s: LogFileSummary): Row {
    const { header = {}, trailer = {} } = s;
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(header)) if (!FRAMING.has(k)) fields[k] = nested(v);
    for (const [k, v] of Object.entries(trailer)) {
      if (FRAMING.has(k)) continue;
      fields[k === "events" ? "eventsWritten" : k] = nested(v);
    }
    Object.assign(fields, {
      file: basename(s.file),
      complete: s.trailer !== undefined,
      rowsRead: s.rowsRead,
      problems: s.problems.length,
      skippedBytes: s.problems.some((p) => p.skipped),
    });
    return this.rows.row(fields, contextOf(header), `the header or trailer of ${s.file}`);
  }
}
