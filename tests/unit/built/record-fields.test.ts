// The field table's record fields (catalogue/fields.ts, `record`): each is
// as wide in struct mt_record as its type says, behind a record flag of its
// own; and an event map that has one comes back out of the decoder as it
// went in, through either rebuild (the WebAssembly one and
// record/records.ts's writeRecord), while a map without it (an older log's)
// comes back without it. Generic over the table: a field added there is
// checked here with no change to this file.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { decode } from "cbor-x/decode";
import { Encoder } from "cbor-x/encode";
import { Decoder, layout } from "../../../decoder/host";
import { RECORD_FIELDS, RECORD_WIDTH, type RecordFieldType } from "../../../catalogue/fields";
import { writeRecord } from "../../../record/records";
import { readLog } from "../../../log/reader";
import { FIXTURE_LOGS } from "../../lib/fixture-logs";

const constants = layout as unknown as Record<string, number>;

/** Values at the edges of each type, as cbor-x gives them back. */
const VALUES: Record<RecordFieldType, unknown[]> = {
  bool: [false, true],
  uint32: [0, 4026531833, 2 ** 32 - 1],
  int32: [-(2 ** 31), -1, 0, 2 ** 31 - 1],
  uint64: [0, 2 ** 40, 2n ** 64n - 1n],
  int64: [-(2n ** 63n), -1, 0, 2n ** 63n - 1n],
};

let decoder: Decoder;
let events: any[];
beforeAll(async () => {
  decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
  // One event of each kind the fixtures hold: what a log gives the rebuilds.
  const byName = new Map<string, any>();
  for (const path of FIXTURE_LOGS) for (const i of readLog(path, [])) if (i.kind === "event" && !byName.has(i.value.eventName)) byName.set(i.value.eventName, i.value);
  events = [...byName.values()];
});

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

/** The map the decoder writes for a record. */
function decoded(record: Uint8Array): any {
  decoder.inputView(record.length).set(record);
  return decode(decoder.decode(record.length, "cbor").slice());
}

/** Map e back out of the decoder through each rebuild: [WebAssembly's or undefined where it left e to writeRecord, writeRecord's]. */
function throughRebuilds(e: any): [any, any] {
  const bytes = encoder.encode(e);
  decoder.mirror(bytes.length).set(bytes);
  const run = decoder.rebuildRun(0, bytes.length, 1);
  const wasm = run.count === 1 ? decoded(run.records.slice()) : undefined;
  const scratch = new Uint8Array(layout.RECORD_MAX);
  const size = writeRecord(e, new DataView(scratch.buffer), scratch, 0);
  return [wasm, decoded(scratch.subarray(0, size))];
}

describe("fields read straight from the record", () => {
  test("the table has some, each as wide in the record as its type, behind a flag bit of its own", () => {
    expect(RECORD_FIELDS.length).toBeGreaterThan(0);
    const flags = Object.entries(constants).filter(([k]) => k.startsWith("FLAG_"));
    for (const f of RECORD_FIELDS) {
      const name = f.record.field.toUpperCase();
      expect([f.key, constants[`REC_LEN_${name}`]]).toEqual([f.key, RECORD_WIDTH[f.type]]);
      const flag = constants[`FLAG_${f.record.presentWith}`];
      expect(flag & (flag - 1)).toBe(0); // one bit
      expect(flags.filter(([, v]) => v === flag).length).toBe(1);
    }
  });

  test("a map with one comes back as it went in, through either rebuild; a map without one, without it", () => {
    let wasmTook = 0;
    for (const e of events)
      for (const f of RECORD_FIELDS) {
        const { [f.key]: _, ...without } = e;
        const [wasmWithout, jsWithout] = throughRebuilds(without);
        expect(jsWithout).toEqual(without);
        if (wasmWithout) expect(wasmWithout).toEqual(without);
        for (const value of VALUES[f.type]) {
          const e2 = { ...without, [f.key]: value };
          const [wasm, js] = throughRebuilds(e2);
          expect(js).toEqual(e2);
          if (wasm) {
            wasmTook++;
            expect(wasm).toEqual(e2);
          }
        }
      }
    // The WebAssembly rebuild takes the fixtures' ordinary events.
    expect(wasmTook).toBeGreaterThan(0);
  });
});
