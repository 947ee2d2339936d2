// The WebAssembly rebuild (decoder/assembly/rebuild.ts) against the one it
// must agree with, record/records.ts's writeRecord: on real logs whole, cut,
// corrupted and read in windows of every size, the log reader gives the same
// items, offsets, problems and records with the rebuild as without it; and on
// event maps changed one field at a time (a wrong type, null, missing, an
// extra key), the rebuild never takes a map writeRecord refuses, nor builds
// another record from one it takes, nor one whose record reads back other
// than its map (the timestamp, pid, command name, errno, image, container,
// login and ancestry a reader judges by). Both run the rebuild's memo of
// the last caller's context (rebuild-memo.ts) through its cases: runs of one
// process's maps, a map whose context differs from the last one's in one
// field, its context fields scattered, a key twice.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Encoder } from "cbor-x/encode";
import { Decoder, layout } from "../../../decoder/host";
import { readLog, readLogBytes, type LogItem, type Problem } from "../../../log/reader";
import { RecordError, writeRecord } from "../../../record/records";
import { eachRecord } from "../../../record/record-batch";
import { TOP_FIELDS } from "../../../catalogue/fields";
import { EVENTS } from "../../../catalogue/events";
import { EventView } from "../../../record/event-view";
import { errnoName } from "../../../record/errno";
import { FIXTURE_LOGS } from "../../lib/fixture-logs";

const LOGS = FIXTURE_LOGS;

let decoder: Decoder;
beforeAll(async () => {
  decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
});

const scratch = new Uint8Array(layout.RECORD_MAX);
const scratchView = new DataView(scratch.buffer);

/** The record writeRecord builds from map e, or undefined when it refuses it. */
function jsRecord(e: any): Uint8Array | undefined {
  try {
    return scratch.slice(0, writeRecord(e, scratchView, scratch, 0));
  } catch (err) {
    if (err instanceof RecordError || err instanceof TypeError) return undefined;
    throw err;
  }
}

/** A record's bytes without its padding (which writeRecord leaves as it finds it). */
function unpadded(r: Uint8Array): number[] {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  let end = layout.REC_SIZE;
  for (let s = 0; s < layout.SLOT_COUNT; s++) end += v.getUint16(layout.REC_OFF_STR_LEN + 2 * s, true);
  return [v.getUint32(layout.REC_OFF_SIZE, true), ...r.subarray(0, end)];
}

/** What a reader sees: each item's kind and offset, an event's record, and the problems. */
function shape(items: Iterable<LogItem>, problems: Problem[]) {
  const seen: [string, number, number[] | undefined][] = [];
  for (const i of items) {
    if (i.kind === "records") {
      // A run: each of its records, at the offset its item began.
      let n = 0;
      for (const record of eachRecord(i.records)) seen.push(["event", i.offset + i.starts[n++], unpadded(record)]);
      expect(n).toBe(i.count);
    } else seen.push(i.kind === "record" ? ["event", i.offset, unpadded(i.record)] : i.kind === "event" ? ["event", i.offset, unpadded(jsRecord(i.value)!)] : [i.kind, i.offset, undefined]);
  }
  return { seen, problems };
}

describe("the rebuild in WebAssembly", () => {
  test("the reader with it gives what it gives without: logs whole, cut, corrupted, and read in windows", () => {
    const dir = mkdtempSync(join(tmpdir(), "modtrace-rebuild-"));
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let n = 0;
    let rebuilt = 0;
    for (const path of LOGS) {
      const log = readFileSync(path);
      const cases: Uint8Array[] = [log];
      for (let round = 0; round < 15; round++) {
        const damaged = Buffer.from(log);
        for (let i = 0; i < 1 + Math.floor(random() * 4); i++) damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
        cases.push(round % 3 === 0 ? log.subarray(0, Math.floor(random() * log.length)) : round % 3 === 1 ? damaged : damaged.subarray(0, Math.floor(random() * damaged.length)));
      }
      for (const bytes of cases) {
        const file = join(dir, `case-${n++}.cbor`);
        writeFileSync(file, bytes);
        const without: Problem[] = [];
        const expected = shape(readLogBytes(bytes, file, without), without);
        for (const chunk of [3, 1000, 1 << 20]) {
          const withIt: Problem[] = [];
          const items: LogItem[] = [];
          for (const i of readLog(file, withIt, { chunkBytes: chunk, records: decoder })) {
            if (i.kind === "records") rebuilt += i.count;
            items.push(i.kind === "record" ? { ...i, record: i.record.slice() } : i.kind === "records" ? { ...i, records: i.records.slice(), starts: i.starts.slice() } : i);
          }
          expect(shape(items, withIt)).toEqual(expected);
        }
      }
    }
    // And the rebuild did the work: most events never became maps.
    expect(rebuilt).toBeGreaterThan(1000);
  });

  test("a map changed one field at a time: never taken where writeRecord refuses it, never another record", () => {
    const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
    const events = LOGS.flatMap((f) => [...readLog(f, [])].filter((i) => i.kind === "event").map((i) => (i as any).value));
    const odd: unknown[] = [null, true, 0, -1, 2 ** 32, 2n ** 64n - 1n, "", "x".repeat(300), "y".repeat(255), new Uint8Array(3), new Uint8Array(20).fill(65), new Uint8Array(32), new Uint8Array(300), [], {}, { path: 1 }, 1.5];
    let taken = 0;
    let refused = 0;
    const check = (e: any) => {
      const bytes = encoder.encode(e);
      decoder.mirror(bytes.length).set(bytes);
      const run = decoder.rebuildRun(0, bytes.length, 1);
      const js = jsRecord(e);
      if (!run.count) return;
      const r = { length: run.length, record: run.records };
      taken++;
      expect(r.length).toBe(bytes.length);
      expect(js).toBeDefined();
      expect(unpadded(r.record)).toEqual(unpadded(js!));
      // What the readers that judge by the record read there is the map's own.
      const v = new EventView(new DataView(r.record.buffer, r.record.byteOffset, r.record.byteLength), r.record, 0n);
      const said = { name: e.eventName, scan: e.hook === "scan", t: BigInt(e.timestamp), pid: e.hostProcessId, comm: e.processName, ret: Number(e.returnValue), error: e.returnError, callId: e.callId === undefined ? undefined : String(e.callId) };
      expect({ name: v.eventName, scan: v.hook === layout.HOOK_SCAN, t: v.timestamp, pid: v.hostProcessId, comm: v.processName, ret: v.returnValue, error: v.returnValue < 0 ? errnoName(v.returnValue) : undefined, callId: v.callId === undefined ? undefined : String(v.callId) }).toEqual(said);
      if (e.eventName === "delete_module") expect(v.strArg ?? null).toEqual(e.args.find((a: any) => a.name === "name")?.value ?? null);
      if (!EVENTS.find((x) => x.name === e.eventName)!.image) expect([e.sha256, e.size, e.sha256Error]).toEqual([undefined, undefined, undefined]);
      if (e.sha256 !== undefined) expect([v.sha256, Number(v.imageSize)]).toEqual([Buffer.from(e.sha256).toString("hex"), Number(e.size)]);
      if (e.eventName === "finit_module") expect(v.file ?? null).toEqual(e.args.find((a: any) => a.name === "pathname")?.value ?? null);
      if (v.context & layout.CONTEXT_ABSENT) expect([e.ancestors, e.loginUserId, e.container, e.inContainer]).toEqual([undefined, undefined, undefined, undefined]);
      else {
        // The container, login and ancestry stats counts load calls by.
        const c = decoder.containerOf(r.record);
        expect(c ? (c.runtime ? `${c.runtime}:${c.id}` : "own") : "host").toBe(e.container ? `${e.container.runtime}:${e.container.id}` : e.inContainer === true ? "own" : e.inContainer === false ? "host" : "?");
        expect(String(v.loginUserId)).toBe(String(e.loginUserId));
        expect(Array.from({ length: v.ancestorCount }, (_, i) => v.ancestorComm(i))).toEqual(e.ancestors.map((a: any) => a.processName));
        expect(Boolean(v.context & layout.CONTEXT_ANCESTRY_CUT)).toBe(e.ancestryCut === true);
      }
    };
    for (const e of events) {
      check(e);
      // Every key an event can have, there or not; in a map, every entry it can have.
      for (const field of TOP_FIELDS) {
        const key = field.key;
        const { [key]: _, ...without } = e;
        check(without);
        for (const v of odd) check({ ...e, [key]: v });
        const value = e[key];
        if (value && typeof value === "object" && !(value instanceof Uint8Array) && !Array.isArray(value))
          for (const sub of field.entries ?? []) for (const v of odd) check({ ...e, [key]: { ...value, [sub.key]: v } });
      }
      for (let a = 0; a < e.args.length; a++)
        for (const v of odd) {
          const args = e.args.map((x: any, i: number) => (i === a ? { ...x, value: v } : x));
          check({ ...e, args });
          if (jsRecord({ ...e, args }) === undefined) refused++;
        }
      check({ ...e, somethingNew: 1 });
    }
    expect(taken).toBeGreaterThan(events.length);
    expect(refused).toBeGreaterThan(0);
  });
});
