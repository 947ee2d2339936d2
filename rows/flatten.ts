// Event maps (the same maps as the JSON output, as cbor-x decodes them from a
// log or from the decoder's CBOR) to flat rows of the schema's columns, by the
// one rule written in schema.ts. A field the schema does not know, or a value
// that does not fit its column, is reported once and left out: the event's
// row is still written.
import { EVENT_COLUMNS, SCHEMA_VERSION, type Column, type ColumnType } from "./schema";

export type Value = null | boolean | number | bigint | string;
export type Row = Value[];

/** What every row of one log shares, from its header. */
export interface LogContext {
  host: string;
  kernel: string;
  bootTime: bigint | number;
}

export function contextOf(header: any): LogContext {
  return {
    host: typeof header?.host === "string" ? header.host : "",
    kernel: typeof header?.kernel === "string" ? header.kernel : "",
    bootTime: typeof header?.bootTime === "bigint" || Number.isInteger(header?.bootTime) ? header.bootTime : 0,
  };
}

const RANGES: Partial<Record<ColumnType, [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const NUMBER_RANGES = Object.fromEntries(Object.entries(RANGES).map(([t, [lo, hi]]) => [t, [Number(lo), Number(hi)]])) as Record<string, [number, number]>;

/** A list field as JSON text: integers exact, raw bytes as hex (as the JSON output has them). */
export function asJson(v: unknown): string {
  // 64-bit integers past 2^53 (start times in ns) as their exact digits, not a double's.
  const BIG = "\u0000big:";
  const text = JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${BIG}${x}` : x instanceof Uint8Array ? hex(x) : x));
  return text.replace(/"\\u0000big:(-?\d+)"/g, "$1");
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX[b];
  return s;
}

/** v as a value of the column's type, or undefined when it does not fit. */
function fit(type: ColumnType, v: unknown): Value | undefined {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "bool":
      return typeof v === "boolean" ? v : undefined;
    case "string":
      return typeof v === "string" ? v : undefined;
    case "hex":
      if (v instanceof Uint8Array) return hex(v);
      return typeof v === "string" && /^([0-9a-f]{2})*$/.test(v) ? v : undefined;
    default: {
      // Most integers are safe numbers: compare them as numbers, not as BigInts.
      if (typeof v === "number") return Number.isInteger(v) && v >= NUMBER_RANGES[type][0] && v <= NUMBER_RANGES[type][1] ? v : undefined;
      const [lo, hi] = RANGES[type]!;
      if (typeof v !== "bigint" || v < lo || v > hi) return undefined;
      // 32-bit values as numbers; 64-bit ones as they came (bigint past 2^53).
      return type === "int32" || type === "uint32" ? Number(v) : v;
    }
  }
}

/** A map's words in a report: given, or "a NAME event" for an event map. */
const wordsFor = (what: string | any): string => (typeof what === "string" ? what : `a ${what.eventName} event`);

/** Says each distinct problem once, on stderr, however many events have it. */
export class Reporter {
  private seen = new Set<string>();
  constructor(private write: (line: string) => void = (l) => process.stderr.write(l)) {}

  once(key: string, message: string) {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.write(`modtrace: ${message}\n`);
  }

  get count() {
    return this.seen.size;
  }
}

export class RowBuilder {
  private index = new Map<string, number>();

  constructor(private columns: Column[] = EVENT_COLUMNS, private reporter = new Reporter()) {
    columns.forEach((c, i) => this.index.set(c.name, i));
  }

  /** The row of event map e captured under ctx; `what` names e in reports
   * (made only when there is something to report). */
  row(event: object, ctx: LogContext, what?: string): Row {
    // Any map: the rule is the same for every key, known or not.
    const e = event as Record<string, any>;
    const row: Row = new Array(this.columns.length).fill(null);
    const about = what ?? e;
    this.set(row, "schemaVersion", SCHEMA_VERSION, about);
    this.set(row, "host", ctx.host, about);
    this.set(row, "kernel", ctx.kernel, about);
    this.set(row, "bootTime", ctx.bootTime, about);
    for (const key in e) {
      const v = e[key];
      if (key === "args" && Array.isArray(v)) {
        for (const arg of v) {
          if (!arg || typeof arg.name !== "string") continue;
          for (const entry in arg) {
            // The argument's C type is a fact of the schema (its column's about), not of each row.
            if (entry === "name" || entry === "type") continue;
            this.set(row, entry === "value" ? arg.name : this.joined(arg.name, entry), arg[entry], about);
          }
        }
      } else if (Array.isArray(v)) this.set(row, key, asJson(v), about);
      else if (v && typeof v === "object" && !(v instanceof Uint8Array)) {
        for (const sub in v) this.set(row, this.joined(key, sub), v[sub], about);
      } else this.set(row, key, v, about);
    }
    return row;
  }

  /** "key_sub", made once per pair: the same few pairs come in every row. */
  private joinedNames = new Map<string, Map<string, string>>();
  private joined(key: string, sub: string): string {
    let subs = this.joinedNames.get(key);
    if (!subs) this.joinedNames.set(key, (subs = new Map()));
    let name = subs.get(sub);
    if (name === undefined) subs.set(sub, (name = `${key}_${sub}`));
    return name;
  }

  /** what: the words for the map, or the event map itself (named "a NAME event"). */
  private set(row: Row, name: string, v: unknown, what: string | any) {
    const i = this.index.get(name);
    if (i === undefined) {
      this.reporter.once(
        `unknown ${name}`,
        `field ${name} (first seen in ${wordsFor(what)}) is not in row schema ${SCHEMA_VERSION}: left out of the rows, every event still written (a newer modtrace knows it)`,
      );
      return;
    }
    const col = this.columns[i];
    const value = fit(col.type, v);
    if (value === undefined) {
      this.reporter.once(`type ${name}`, `field ${name} of ${wordsFor(what)} holds ${typeof v} ${String(v).slice(0, 40)}, not a ${col.type}: written as null`);
      row[i] = null;
      return;
    }
    row[i] = value;
  }
}
