// The rows both writers get: the fleet fixtures' real events flattened by
// modtrace's own code, repeated with host and time varied.
import { readFileSync, readdirSync } from "node:fs";
import { decodeMultiple } from "cbor-x/decode";
import { RowBuilder, contextOf, type Row } from "../../rows/flatten";
import { EVENT_COLUMNS } from "../../rows/schema";

export { EVENT_COLUMNS };

const HOST = EVENT_COLUMNS.findIndex((c) => c.name === "host");
const TIMESTAMP = EVENT_COLUMNS.findIndex((c) => c.name === "timestamp");

export function makeRows(dir: string, n: number): Row[] {
  const builder = new RowBuilder();
  const base: Row[] = [];
  for (const host of readdirSync(dir))
    for (const f of readdirSync(`${dir}/${host}`)) {
      let ctx = contextOf(undefined);
      decodeMultiple(readFileSync(`${dir}/${host}/${f}`), (x: any) => {
        if (!x.format) base.push(builder.row(x, ctx));
        else if (!x.trailer) ctx = contextOf(x);
      });
    }
  return Array.from({ length: n }, (_, i) => {
    const r = base[i % base.length].slice();
    r[HOST] = `host-${i % 1000}`;
    r[TIMESTAMP] = BigInt(r[TIMESTAMP] as number | bigint) + BigInt(i);
    return r;
  });
}

/** Times write(rows) and prints one JSON line. */
export function report(lib: string, write: (rows: Row[]) => Uint8Array) {
  const rows = makeRows(process.argv[2], Number(process.argv[3]));
  const t = performance.now();
  const bytes = write(rows);
  const seconds = (performance.now() - t) / 1000;
  console.log(JSON.stringify({ lib, rows: rows.length, seconds, rowsPerSec: Math.round(rows.length / seconds), bytes: bytes.length }));
}
