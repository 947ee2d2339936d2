// The log reader's own decoder (log/item-decoder.ts) against cbor-x, which
// it stands in for: every item of the fixture logs (captured on real kernels
// by earlier builds) decodes to exactly cbor-x's value, prototypes and
// BigInts included; every shape modtrace does not write is declined, for
// cbor-x to judge.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Decoder } from "cbor-x/decode";
import { Encoder } from "cbor-x";
import { decodeItem, NotHandled } from "../../log/item-decoder";
import { itemEnd } from "../../log/item-bounds";

const cbor = new Decoder({ mapsAsObjects: true, useRecords: false, copyBuffers: true });

function logsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? logsUnder(join(dir, f)) : f.endsWith(".cbor") ? [join(dir, f)] : []));
}

test("every item of every fixture log: cbor-x's value exactly, or declined", () => {
  const logs = logsUnder("tests/fixtures");
  expect(logs.length).toBeGreaterThan(3);
  let decoded = 0;
  for (const log of logs) {
    const bytes = new Uint8Array(readFileSync(log));
    for (let pos = 0; pos < bytes.length; ) {
      const end = itemEnd(bytes, pos);
      const item = bytes.subarray(pos, end);
      let mine: unknown;
      try {
        mine = decodeItem(item);
      } catch (e) {
        expect(e).toBeInstanceOf(NotHandled);
        pos = end;
        continue;
      }
      // toStrictEqual: the same types (Uint8Array, BigInt, undefined) too.
      expect(mine).toStrictEqual(cbor.decode(item));
      decoded++;
      pos = end;
    }
  }
  // The events and findings are modtrace's own shapes: nearly all decoded here.
  expect(decoded).toBeGreaterThan(150);
});

test("the shapes modtrace writes, each as cbor-x gives it", () => {
  // Byte strings from a Buffer: cbor-x tags a Uint8Array (64) when it encodes one.
  const enc = new Encoder({ useRecords: false });
  const values = [
    { timestamp: 1796445298950098158n, processId: 9104, name: "mt_burst", raw: Buffer.from([0xff, 0x00]), flag: true, none: null, gone: undefined, no: false },
    { n: -5, big: -4294967297n, small: 4294967295, list: [1, "é", { x: "日本語" }], empty: "", "": 0 },
    JSON.parse('{"__proto__": 1, "a": {"__proto__": "x"}}'), // an own key: renamed, as cbor-x's safeKey does
  ];
  for (const v of values) {
    const bytes = new Uint8Array(enc.encode(v));
    expect(decodeItem(bytes)).toStrictEqual(cbor.decode(bytes));
  }
});

test("anything else is declined: floats, tags, indefinite lengths, other keys, invalid UTF-8, a byte-order mark, trailing bytes", () => {
  const declined = [
    [0xa1, 0x61, 0x78, 0xfb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18], // {x: 3.14159}
    [0xc1, 0x1a, 0x00, 0x00, 0x00, 0x01], // tag 1
    [0xbf, 0x61, 0x78, 0x01, 0xff], // indefinite map
    [0xa1, 0x01, 0x02], // {1: 2}
    [0x62, 0xc3, 0x28], // invalid UTF-8
    [0x63, 0xef, 0xbb, 0xbf], // a byte-order mark
    [0x01, 0x02], // two items
    [0xf0], // simple value 16
  ];
  for (const d of declined) expect(() => decodeItem(new Uint8Array(d))).toThrow(NotHandled);
});
