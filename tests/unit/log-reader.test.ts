// The log reader on a CBOR log captured from a real kernel
// (tests/fixtures/record.sh), whole, cut at every byte, and corrupted.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLog, readLogBytes, type Problem } from "../../log/reader";
import { writeRecord } from "../../record/records";
import * as layout from "../../record/layout";
import { strictItemCount } from "../lib/cbor";

const log = readFileSync("tests/fixtures/kernel-6.18.cbor");
const truth = readFileSync("tests/fixtures/kernel-6.18.truth.jsonl", "utf8").trim().split("\n").filter((l) => !l.includes('"call":"file"') && !l.includes('"call":"context"'));

function readAll(bytes: Uint8Array) {
  const problems: Problem[] = [];
  const items = [...readLogBytes(bytes, "log", problems)];
  return { items, events: items.filter((i) => i.kind === "event"), problems, skipped: problems.filter((p) => p.skipped) };
}

const whole = readAll(log);
// Where each item starts, and where the whole file ends.
const starts = whole.items.map((i) => i.offset);
const ends = [...starts.slice(1), log.length];

describe("log reader", () => {
  test("a whole log: header, one event per call, trailer, nothing to report", () => {
    expect(whole.problems).toEqual([]);
    expect(whole.items[0].kind).toBe("header");
    expect(whole.items.at(-1)!.kind).toBe("trailer");
    expect(whole.events.length).toBe(truth.length);
    expect((whole.items.at(-1) as { value: any }).value.events).toBe(truth.length);
    expect(strictItemCount(log)).toBe(whole.items.length);
  });

  test("cut at every byte offset: the events before the cut, and the offset of the cut item", () => {
    for (let cut = 0; cut < log.length; cut++) {
      const r = readAll(log.subarray(0, cut));
      const whole_items = ends.filter((e) => e <= cut).length;
      expect(r.items.length).toBe(whole_items);
      if (cut === 0) expect(r.skipped[0].message).toContain("empty");
      else if (ends.includes(cut)) {
        expect(r.skipped).toEqual([]);
        expect(r.problems.map((p) => p.message).join()).toContain("no trailer");
      } else {
        expect(r.skipped.length).toBe(1);
        expect(r.skipped[0].offset).toBe(cut < ends[0] ? 0 : starts[whole_items]);
      }
    }
  }, 30_000); // a read per byte of a 16 KB log: seconds on a busy machine

  test("random corruption never throws or hangs, and lost events are always reported", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const view = new DataView(new ArrayBuffer(layout.RECORD_MAX));
    const recordBytes = new Uint8Array(view.buffer);
    for (let round = 0; round < 1000; round++) {
      const damaged = Buffer.from(log);
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i++) damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
      const r = readAll(damaged);
      expect(r.events.length).toBeLessThanOrEqual(whole.events.length + 1);
      if (r.events.length < whole.events.length) expect(r.skipped.length).toBeGreaterThan(0);
      for (const e of r.events) writeRecord(e.value, view, recordBytes, 0);
    }
  });

  test("a file that is not a modtrace log says so", () => {
    for (const bytes of [Buffer.from("hello, world\n"), Buffer.from([0xa1, 0x61, 0x61, 0x01]), readFileSync("tests/fixtures/kernel-6.18.raw")]) {
      const r = readAll(bytes);
      expect(r.events).toEqual([]);
      expect(r.skipped[0].message).toContain("not a modtrace log");
    }
  });

  test("a file read in windows gives what the whole of it gives: items, offsets and problems, however the reads cut it", () => {
    const dir = mkdtempSync(join(tmpdir(), "modtrace-reader-"));
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const cases: Uint8Array[] = [log, log.subarray(0, Math.floor(log.length / 2)), Buffer.from("not a log at all")];
    for (let round = 0; round < 24; round++) {
      const damaged = Buffer.from(log);
      for (let i = 0; i < 1 + Math.floor(random() * 4); i++) damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
      cases.push(round % 2 ? damaged : damaged.subarray(0, Math.floor(random() * damaged.length)));
    }
    const shape = (items: any[], problems: Problem[]) => ({ items: items.map((i) => [i.kind, i.offset, JSON.stringify(i.value, (_, v) => (typeof v === "bigint" ? String(v) : v instanceof Uint8Array ? [...v] : v?.type === "Buffer" ? v.data : v))]), problems });
    cases.forEach((bytes, n) => {
      const file = join(dir, `case-${n}.cbor`);
      writeFileSync(file, bytes);
      const inMemory: Problem[] = [];
      const expected = shape([...readLogBytes(bytes, file, inMemory)], inMemory);
      // Reads of 3 bytes up to more than the file: every boundary falls inside items and damage.
      for (const chunk of [3, 64, 1000, 1 << 20]) {
        const windowed: Problem[] = [];
        expect(shape([...readLog(file, windowed, { chunkBytes: chunk })], windowed)).toEqual(expected);
      }
    });
  });
});

