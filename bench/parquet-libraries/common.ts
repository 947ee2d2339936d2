import { readFileSync, readdirSync } from "node:fs";
import { decodeMultiple } from "cbor-x/decode";
import { RowBuilder, contextOf, type Row } from "../../cmd/rows/flatten";
import { EVENT_COLUMNS } from "../../cmd/rows/schema";
export function makeRows(dir: string, n: number): Row[] {
  const b = new RowBuilder();
  const base: Row[] = [];
  for (const host of readdirSync(dir)) for (const f of readdirSync(`${dir}/${host}`)) {
    let ctx: any;
    decodeMultiple(readFileSync(`${dir}/${host}/${f}`), (x: any) => {
      if (x.format) { if (!x.trailer) ctx = contextOf(x); } else base.push(b.row(x, ctx));
    });
  }
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) { const r = base[i % base.length].slice(); r[1] = `host-${i % 1000}`; r[4] = BigInt(r[4] as any) + BigInt(i); rows.push(r); }
  return rows;
}
export { EVENT_COLUMNS };
