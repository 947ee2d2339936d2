// String slots holding arbitrary bytes: the decoder's fast paths (ASCII runs,
// whole-run copies) must give what a WHATWG UTF-8 decoder gives, escape what
// JSON and a terminal need escaped, and keep the exact bytes recoverable.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Decoder, layout } from "../../../decoder/host";
import { cborItems, strictItemCount } from "../../lib/cbor";
import { splitRecords, withString } from "../../lib/records";

const raw = readFileSync("tests/fixtures/kernel-6.18.raw");
const truth = readFileSync("tests/fixtures/kernel-6.18.truth.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l));
const calls = truth.filter((t) => t.call !== "file");
// A captured delete_module whose name was read: its ARG slot gets the test bytes.
const index = calls.findIndex((t) => t.call === "delete_module" && t.name_hex);
const template = splitRecords(raw)[index];

// Pieces that exercise every branch: ASCII long and short, JSON and terminal
// specials, valid 2/3/4-byte sequences, C1 controls, bidi controls and line
// separators (and their neighbours, which stay), and invalid bytes.
const PIECES = [
  "module_name_long_enough_for_eight_at_a_time", "x", "\"", "\\", "\n", "\x01", "\x7f", "é", "€", "😀", "\u0085",
  "\u202e", "\u2028", "\u2029", "\u200f", "\u2066", "\u061c", "\u2027", "\u202f", "\u2065",
].map((s) => Buffer.from(s, "utf8")).concat([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf0, 0x9f], [0xe2, 0x82], [0x80]].map((b) => Buffer.from(b)));

let seed = 12345;
const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n | 0;

function randomName(): Buffer {
  const parts: Buffer[] = [];
  for (let len = 0, count = 1 + random(12); parts.length < count; ) {
    const p = PIECES[random(PIECES.length)];
    if (len + p.length > layout.STR_LEN - 1) break;
    parts.push(p);
    len += p.length;
  }
  return Buffer.concat(parts);
}

function recordWith(name: Buffer): Buffer {
  return withString(template, layout.SLOT_ARG, name);
}

/** Undoes the text format's escapes: \xNN, \" and \\. */
function unescapeText(s: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < s.length; ) {
    if (s[i] === "\\" && s[i + 1] === "x") {
      out.push(Buffer.from([parseInt(s.slice(i + 2, i + 4), 16)]));
      i += 4;
    } else if (s[i] === "\\") {
      out.push(Buffer.from(s[i + 1], "utf8"));
      i += 2;
    } else {
      const c = String.fromCodePoint(s.codePointAt(i)!);
      out.push(Buffer.from(c, "utf8"));
      i += c.length;
    }
  }
  return Buffer.concat(out);
}

let decoder: Decoder;
beforeAll(async () => {
  decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
});

describe("string slots with arbitrary bytes", () => {
  const names = Array.from({ length: 500 }, randomName);
  const batch = Buffer.concat(names.map(recordWith));
  const decode = (format: "json" | "cbor" | "text") => {
    decoder.inputView(batch.length).set(batch);
    return decoder.decode(batch.length, format).slice();
  };
  const whatwg = new TextDecoder("utf-8", { fatal: false });
  const nameArg = (e: any) => e.args.find((a: any) => a.name === "name");

  test("JSON: the value a WHATWG decoder gives, and raw hex exactly when bytes were replaced", () => {
    const events = new TextDecoder().decode(decode("json")).trim().split("\n").map((l) => JSON.parse(l));
    expect(events.length).toBe(names.length);
    events.forEach((e, i) => {
      const expected = whatwg.decode(names[i]);
      expect(nameArg(e).value).toBe(expected);
      expect(nameArg(e).raw).toBe(expected.includes("\uFFFD") && Buffer.from(expected, "utf8").compare(names[i]) !== 0 ? names[i].toString("hex") : undefined);
    });
  });

  test("CBOR: the same strings, valid for a strict decoder", () => {
    const bytes = decode("cbor");
    expect(strictItemCount(bytes)).toBe(names.length);
    cborItems(bytes).forEach((e, i) => expect(nameArg(e).value).toBe(whatwg.decode(names[i])));
  });

  test("text: one line per event, no raw control bytes, and the escapes give back the exact bytes", () => {
    const lines = new TextDecoder().decode(decode("text")).trimEnd().split("\n");
    expect(lines.length).toBe(names.length);
    lines.forEach((line, i) => {
      expect(line).not.toMatch(/[\x00-\x1f\x7f\x80-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/);
      const quoted = /name: "((?:[^"\\]|\\.)*)", flags/.exec(line)!;
      expect(unescapeText(quoted[1]).toString("hex")).toBe(names[i].toString("hex"));
    });
  });
});
