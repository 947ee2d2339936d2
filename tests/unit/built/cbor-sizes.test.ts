// CBOR map and array sizes are counted as the decoder writes, not kept by
// hand: every event of the captured fixtures, and the same events without
// the caller's context (as rebuilt from a log older than it, fewer than 24
// keys), must give heads that match what follows, in their shortest form.
import { beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { decodeMultiple } from "cbor-x/decode";
import { Decoder, layout } from "../../../decoder/host";
import { strictItemCount } from "../../lib/cbor";
import { splitRaw } from "../../lib/records";

const records = [
  ...splitRaw(readFileSync("tests/fixtures/kernel-6.18.raw")).records,
  ...splitRaw(gunzipSync(readFileSync("tests/fixtures/kernel-6.1-images.raw.gz"))).records,
];

let decoder: Decoder;
beforeAll(async () => {
  decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
});

function cborOf(rec: Buffer): Uint8Array {
  decoder.inputView(rec.length).set(rec);
  return decoder.decode(rec.length, "cbor").slice();
}

/** The shortest head of a map of n entries. */
const mapHead = (n: number) => (n < 24 ? [0xa0 | n] : [0xb8, n]);

test("every event's map head is its key count, shortest form, with context and without", () => {
  let shrunk = 0; // events whose two-byte head had to become one byte
  for (const rec of records)
    for (const absent of [false, true]) {
      const r = Buffer.from(rec);
      if (absent) r.writeUInt32LE(r.readUInt32LE(layout.REC_OFF_CONTEXT) | layout.CONTEXT_ABSENT, layout.REC_OFF_CONTEXT);
      const bytes = cborOf(r);
      expect(strictItemCount(bytes)).toBe(1);
      let item: any;
      decodeMultiple(bytes, (x: any) => {
        item = x;
      });
      const keys = Object.keys(item).length;
      expect([...bytes.subarray(0, mapHead(keys).length)]).toEqual(mapHead(keys));
      if (!absent) expect(keys).toBeGreaterThanOrEqual(24);
      else if (keys < 24) shrunk++;
    }
  expect(shrunk).toBeGreaterThan(0);
});
