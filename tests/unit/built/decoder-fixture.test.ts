// The WebAssembly decoder on records captured from a real kernel
// (tests/fixtures/record.sh), checked against the trigger's own account.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { Decoder, DecodeError, layout } from "../../../decoder/host";
import { EVENTS } from "../../../catalogue/events";
import { cborItems, strictItemCount } from "../../lib/cbor";
import { kernelDev } from "../../lib/devices";
import { splitRecords } from "../../lib/records";
import { expectContext, withContext } from "../../lib/context-truth";

const FIXTURE = "tests/fixtures/kernel-6.18";
const raw = readFileSync(`${FIXTURE}.raw`);
const truthLines = readFileSync(`${FIXTURE}.truth.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const file = truthLines.find((t) => t.call === "file");
const calls = withContext(truthLines.filter((t) => t.call !== "file"));
const ERRNO_NAME = Object.fromEntries(Object.entries(constants.errno).map(([name, n]) => [n, name]));

let decoder: Decoder;

function decodeAll(format: "text" | "json" | "cbor", bytes: Uint8Array = raw): Uint8Array {
  decoder.inputView(bytes.length).set(bytes);
  return decoder.decode(bytes.length, format).slice();
}

const argOf = (e: any, name: string) => e.args.find((a: any) => a.name === name);

beforeAll(async () => {
  decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
});

describe("decoder on captured records", () => {
  test("one record per call the trigger made, each only as long as its strings", () => {
    const records = splitRecords(raw);
    expect(records.length).toBe(calls.length);
    for (const rec of records) {
      expect(rec.length % 8).toBe(0);
      const strings = Array.from({ length: layout.SLOT_COUNT }, (_, i) => rec.readUInt16LE(layout.REC_OFF_STR_LEN + 2 * i));
      expect(rec.length - layout.REC_SIZE - strings.reduce((a, b) => a + b, 0)).toBeLessThan(8);
    }
  });

  test("JSON: every context field and argument matches the trigger", () => {
    const events = new TextDecoder().decode(decodeAll("json")).trim().split("\n").map((l) => JSON.parse(l));
    expect(events.length).toBe(calls.length);
    events.forEach((e, i) => {
      const t = calls[i];
      expect(e).toMatchObject({
        eventName: t.call, syscall: t.call, hostProcessId: t.pid, hostThreadId: t.tid, hostParentProcessId: t.ppid,
        userId: t.uid, groupId: t.gid, returnValue: t.ret, returnError: ERRNO_NAME[-t.ret], processName: "mt-trigger",
        hook: "raw_syscalls", argsNum: e.args.length,
      });
      expect(e.executable.path.endsWith("/tests/trigger")).toBe(true);
      // Arguments are named as the catalogue the CLI shows says.
      expect(e.args.map((a: any) => a.name)).toEqual(EVENTS.find((x) => x.name === t.call)!.args.map((a) => a.name));
      if (t.call === "delete_module") {
        expect(argOf(e, "flags").value).toBe(t.flags);
        if (t.name_hex !== undefined && t.name_ptr !== 0 && t.name_hex.length) {
          const bytes = Buffer.from(t.name_hex, "hex");
          expect(argOf(e, "name").value).toBe(bytes.toString("utf8"));
          if (bytes.toString("utf8").includes("\uFFFD")) expect(argOf(e, "name").raw).toBe(t.name_hex);
          else expect(argOf(e, "name").raw).toBeUndefined();
        } else expect(argOf(e, "name")).toMatchObject({ value: null, error: "unreadable" });
      }
      if (t.call === "init_module") {
        expect(argOf(e, "module_image").value).toBe(t.image);
        expect(argOf(e, "len").value).toBe(t.len);
        if (t.params_hex) expect(argOf(e, "param_values").value).toBe(Buffer.from(t.params_hex, "hex").toString());
      }
      if (t.call === "finit_module") {
        expect(argOf(e, "fd").value).toBe(t.fd);
        expect(argOf(e, "flags").value).toBe(t.flags);
        if (t.fd >= 0) {
          expect(argOf(e, "pathname").value).toBe(file.path);
          expect(argOf(e, "inode").value).toBe(file.inode);
          expect(argOf(e, "dev")).toMatchObject(kernelDev(BigInt(file.dev)));
        }
      }
    });
  });

  test("JSON: the caller's context (identity, capabilities, cgroup, ancestors) matches /proc", () => {
    const events = new TextDecoder().decode(decodeAll("json")).trim().split("\n").map((l) => JSON.parse(l));
    const withTruth = calls.map((t, i) => [events[i], t]).filter(([, t]) => t.context);
    expect(withTruth.length).toBe(1);
    for (const [e, t] of withTruth) {
      expectContext(e, t.context);
      expect(e.ancestors.length).toBeGreaterThan(1);
    }
    for (const e of events) {
      // Every event of one process has the same context; uid 65534 dropped its capabilities.
      expect(e.capabilities.sysModule).toBe(e.userId === 0);
      expect(e.inContainer).toBe(false);
      expect(e.initialNamespaces).toEqual({ user: true, pid: true, mount: true });
    }
  });

  test("CBOR: the same maps as JSON, and valid for a strict decoder that is not ours", () => {
    const json = new TextDecoder().decode(decodeAll("json")).trim().split("\n").map((l) => JSON.parse(l));
    const cbor = decodeAll("cbor");
    expect(strictItemCount(cbor)).toBe(calls.length);
    const items = cborItems(cbor).map((e) => {
      for (const a of e.args) if (a.raw instanceof Uint8Array) a.raw = Buffer.from(a.raw).toString("hex");
      for (const a of e.ancestors) if (a.processNameRaw instanceof Uint8Array) a.processNameRaw = Buffer.from(a.processNameRaw).toString("hex");
      return e;
    });
    expect(items).toEqual(json);
  });

  test("text: one escaped line per record", () => {
    const lines = new TextDecoder().decode(decodeAll("text")).trimEnd().split("\n");
    expect(lines.length).toBe(calls.length);
    expect(lines.filter((l) => l.includes("-ENOSYS")).length).toBe(calls.length);
    expect(lines.some((l) => l.includes('name: "mod\\xff\\xfe\\xc3(\\xed\\xa0\\x80z"'))).toBe(true);
    expect(lines.some((l) => l.includes("flags: MODULE_INIT_IGNORE_MODVERSIONS|MODULE_INIT_IGNORE_VERMAGIC"))).toBe(true);
  });

  test("the clock offset turns boot time into wall-clock time", () => {
    decoder.setClockOffset(0n);
    const atBoot = JSON.parse(new TextDecoder().decode(decodeAll("json")).split("\n")[0]).timestamp;
    decoder.setClockOffset(1_000_000_000n);
    const later = JSON.parse(new TextDecoder().decode(decodeAll("json")).split("\n")[0]).timestamp;
    expect(later - atBoot).toBe(1_000_000_000);
  });

  test("a record of another layout version, or cut short, is refused, not misread", () => {
    const first = splitRecords(raw)[0];
    const bad = Buffer.from(first);
    bad.writeUInt16LE(layout.LAYOUT_VERSION + 1, layout.REC_OFF_VERSION);
    expect(() => decodeAll("json", bad)).toThrow(DecodeError);
    expect(() => decodeAll("json", first.subarray(0, first.length - 8))).toThrow(DecodeError);
    expect(() => decodeAll("json", raw.subarray(0, raw.length - 8))).toThrow(DecodeError);
  });

  test("sizes and string bounds that leave the record are refused, never read beyond", () => {
    const first = splitRecords(raw).find((r) => r.readUInt16LE(layout.REC_OFF_STR_LEN + 2 * layout.SLOT_ARG) > 0)!;
    const corrupt = (off: number, value: number, bytes: 2 | 4) => {
      const bad = Buffer.concat([first, Buffer.alloc(4096)]); // room to read past the record
      if (bytes === 2) bad.writeUInt16LE(value, off);
      else bad.writeUInt32LE(value, off);
      return bad.subarray(0, first.length);
    };
    const lenAt = layout.REC_OFF_STR_LEN + 2 * layout.SLOT_ARG;
    const offAt = layout.REC_OFF_STR_OFF + 2 * layout.SLOT_ARG;
    for (const bad of [
      corrupt(lenAt, 0xffff, 2), // longer than any string
      corrupt(lenAt, first.length, 2), // past the record's end
      corrupt(offAt, first.length - 1, 2), // starts inside, ends outside
      corrupt(offAt, 8, 2), // inside the fixed part
      corrupt(layout.REC_OFF_SIZE, 0, 4), // a size that would never advance
      corrupt(layout.REC_OFF_SIZE, first.length + 4, 4), // not a multiple of 8
      corrupt(layout.REC_OFF_SIZE, layout.RECORD_MAX + 8, 4),
    ])
      expect(() => decodeAll("json", bad)).toThrow(DecodeError);
    expect(() => decodeAll("json", first)).not.toThrow();
  });
});
