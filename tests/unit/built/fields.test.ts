// The field table (catalogue/fields.ts) against what the decoder writes: every
// key of every event of the captured fixtures (records from two real
// kernels, module loads with their images among them) is in the table, with a
// value of the table's type, and the table names no argument the catalogue
// lacks. A key the decoder writes that the table does not know fails here,
// before it reaches the rows as an unknown column.
import { beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { decodeMultiple } from "cbor-x/decode";
import { Decoder } from "../../../decoder/host";
import { ARGUMENT_ENTRIES, FIELDS, TOP_FIELDS, isArgument, type Field } from "../../../catalogue/fields";
import { EVENTS } from "../../../catalogue/events";
import { SCHEMA_VERSION } from "../../../rows/schema";
import { splitRaw } from "../../lib/records";

const records = [
  ...splitRaw(readFileSync("tests/fixtures/kernel-6.18.raw")).records,
  ...splitRaw(gunzipSync(readFileSync("tests/fixtures/kernel-6.1-images.raw.gz"))).records,
];

let events: Record<string, unknown>[] = [];
beforeAll(async () => {
  const decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
  for (const rec of records) {
    decoder.inputView(rec.length).set(rec);
    decodeMultiple(decoder.decode(rec.length, "cbor").slice(), (e: any) => {
      events.push(e);
    });
  }
});

/** Whether v (as cbor-x decodes it) is a value of the field's type. */
function fits(f: Field, v: unknown): boolean {
  if (v === null) return !f.required || f.type === "scalar"; // an argument's value may be null
  switch (f.type) {
    case "bool":
      return typeof v === "boolean";
    case "int32":
    case "uint32":
      return Number.isInteger(v) && (f.type === "int32" ? Math.abs(v as number) < 2 ** 31 : (v as number) >= 0 && (v as number) < 2 ** 32);
    case "int64":
      return typeof v === "bigint" || Number.isInteger(v);
    case "uint64":
      return typeof v === "bigint" ? v >= 0n : Number.isInteger(v) && (v as number) >= 0;
    case "string":
      return typeof v === "string";
    case "hex":
      return v instanceof Uint8Array;
    case "scalar":
      return ["bigint", "number", "string", "boolean"].includes(typeof v);
    case "map":
      return typeof v === "object" && !Array.isArray(v);
    case "list":
      return Array.isArray(v);
  }
}

/** Every key of map m is one of fields, with a value of its type; the failures. */
function check(m: Record<string, unknown>, fields: Field[], where: string, bad: Set<string>) {
  for (const [key, v] of Object.entries(m)) {
    const f = fields.find((x) => x.key === key);
    if (!f) {
      bad.add(`${where}${key}: not in the field table`);
      continue;
    }
    if (!fits(f, v)) bad.add(`${where}${key}: ${typeof v} ${String(v)} is not a ${f.type}`);
    else if (f.type === "map" && v) check(v as Record<string, unknown>, f.entries!, `${where}${key}.`, bad);
    else if (f.type === "list") for (const item of v as Record<string, unknown>[]) check(item, f.entries!, `${where}${key}[].`, bad);
  }
  for (const f of fields) if (f.required && !(f.key in m)) bad.add(`${where}${f.key}: required, missing`);
}

test("every key the decoder writes is in the field table, with a value of its type", () => {
  expect(events.length).toBe(records.length);
  const seen = new Set(events.map((e) => e.eventName));
  // Both kernels' events: the syscalls, and module_load among the kernel's own.
  expect(seen.has("finit_module") && seen.has("module_load")).toBe(true);
  const bad = new Set<string>();
  for (const e of events) check(e, TOP_FIELDS, "", bad);
  expect([...bad]).toEqual([]);
  // And the table is used: the fixtures hold a good part of it.
  const used = new Set(events.flatMap((e) => Object.keys(e)));
  expect(used.size).toBeGreaterThan(TOP_FIELDS.length / 2);
});

test("the argument columns are the catalogue's arguments, each once", () => {
  const columns = FIELDS.filter(isArgument).map((a) => a.argument);
  expect(new Set(columns).size).toBe(columns.length);
  const named = new Set(EVENTS.flatMap((e) => e.args.map((a) => a.name)));
  expect([...columns].sort()).toEqual([...named].sort());
  // The entries the decoder adds to an argument are the table's too.
  expect(ARGUMENT_ENTRIES.map((f) => f.key)).toEqual(expect.arrayContaining(["name", "type", "value", "decoded", "truncated", "error", "raw"]));
});

test("the table only grows at its end: versions never go back, and the last is the schema's", () => {
  const since = FIELDS.map((f) => f.since);
  // sha256 (1) after the first arguments (1), then 2, 3, ...: never down.
  for (let i = 1; i < since.length; i++) expect(since[i]).toBeGreaterThanOrEqual(since[i - 1]);
  expect(Math.max(...since)).toBe(SCHEMA_VERSION);
});
