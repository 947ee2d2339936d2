// Integers in JSON and CBOR: JSON's digits are written in 8-digit chunks of
// 32-bit arithmetic, so every width and chunk boundary is checked against
// BigInt's own decimal, and CBOR against a decoder that is not ours.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Decoder, layout } from "../../../decoder/host";
import { decodeMultiple } from "cbor-x/decode";
import { splitRecords } from "../../lib/records";

// A captured init_module: its `len` argument is args[1], an unsigned long.
const template = splitRecords(readFileSync("tests/fixtures/kernel-6.18.raw")).find((r) => r[layout.REC_OFF_EVENT] === layout.EVENT_INIT_MODULE)!;

let seed = 7;
const random32 = () => BigInt((seed = (seed * 1103515245 + 12345) % 2 ** 31));
const values: bigint[] = [0n, 2n ** 64n - 1n];
for (let p = 10n; p < 2n ** 64n; p *= 10n) values.push(p - 1n, p, p + 1n);
for (let i = 0; i < 2000; i++) values.push(BigInt.asUintN(64, (random32() << 33n) | (random32() << 2n)) >> (random32() % 64n));

let decoder: Decoder;
beforeAll(async () => {
  decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
});

describe("integers", () => {
  const batch = Buffer.concat(
    values.map((v) => {
      const r = Buffer.from(template);
      r.writeBigUInt64LE(BigInt.asUintN(64, v), layout.REC_OFF_ARGS + 8);
      return r;
    }),
  );
  const decode = (format: "json" | "cbor") => {
    decoder.inputView(batch.length).set(batch);
    return decoder.decode(batch.length, format).slice();
  };

  test("JSON: the exact decimal digits of every width up to 2^64 - 1", () => {
    const lines = new TextDecoder().decode(decode("json")).trim().split("\n");
    expect(lines.length).toBe(values.length);
    lines.forEach((line, i) => expect(/"name":"len","type":"unsigned long","value":(\d+)/.exec(line)?.[1]).toBe(values[i].toString()));
  });

  test("CBOR: the same values", () => {
    // cbor-x gives a BigInt for every 8-byte integer, a Number for shorter ones.
    const items: any[] = [];
    decodeMultiple(decode("cbor"), (item: any) => void items.push(item));
    expect(items.length).toBe(values.length);
    items.forEach((e, i) => expect(BigInt(e.args.find((a: any) => a.name === "len").value)).toBe(values[i]));
  });
});
