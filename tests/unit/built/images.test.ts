// Module images put back together from chunks, and kernel-side events
// decoded: raw records and image chunks that dist/modtrace captured in
// Debian's 6.1 kernel (tests/fixtures/record-images.ts), checked against the
// guest's own sha256sum of each module file.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { Decoder, layout } from "../../../decoder/host";
import { ImageAssembler } from "../../../images/assembler";
import { cborItems, strictItemCount } from "../../lib/cbor";
import { splitRaw } from "../../lib/records";

const FIXTURE = "tests/fixtures/kernel-6.1-images";
const { records, chunks } = splitRaw(gunzipSync(readFileSync(`${FIXTURE}.raw.gz`)));
const truth: { path: string; sha256: string; size: number }[] = readFileSync(`${FIXTURE}.truth.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const dummy = truth.find((t) => t.path.endsWith("/dummy.ko"))!;

let decoder: Decoder;
beforeAll(async () => {
  decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
});

const LOADS = ["init_module", "finit_module", "module_load"];
const arg = (e: any, name: string) => e.args.find((a: any) => a.name === name)?.value;

/** The events of these records, as JSON, after an assembler given these chunks settled their images. */
function decode(chunkList: Buffer[], recordList: Buffer[] = records, format: "json" | "cbor" = "json") {
  const images = new ImageAssembler();
  const chunkBytes = Buffer.concat(chunkList);
  images.addChunks(chunkBytes, chunkBytes.length);
  const bytes = Buffer.concat(recordList);
  decoder.inputView(bytes.length).set(bytes);
  const { bytes: len, records: n } = decoder.span(bytes.length);
  expect(n).toBe(recordList.length);
  images.settle(decoder.inputView(len), decoder.spanImageRecords());
  const out = decoder.decode(len, format).slice();
  return { images, out, events: format === "json" ? new TextDecoder().decode(out).trim().split("\n").map((l) => JSON.parse(l)) : [] };
}

/** The image each load event should carry: its file's, or dummy's for the load from memory. */
function expected(e: any, events: any[]) {
  const call = events.find((x) => x.callId === e.callId && x.eventName !== "module_load" && LOADS.includes(x.eventName));
  if (call?.eventName === "init_module") return dummy;
  const path = arg(call ?? e, "pathname");
  return truth.find((t) => t.path === path);
}

describe("module images from the 6.1 kernel", () => {
  test("the fixture holds chunks and every kind of event", () => {
    expect(chunks.length).toBeGreaterThan(7);
    const kinds = new Set(records.map((r) => r.readUInt8(layout.REC_OFF_EVENT)));
    for (const id of [layout.EVENT_INIT_MODULE, layout.EVENT_FINIT_MODULE, layout.EVENT_DELETE_MODULE, layout.EVENT_MODULE_LOAD,
      layout.EVENT_MODULE_FREE, layout.EVENT_DO_INIT_MODULE, layout.EVENT_MODULE_REQUEST]) expect(kinds.has(id)).toBe(true);
    // As the kernel sent them: the hash is user space's to add.
    for (const r of records) expect(r.readUInt8(layout.REC_OFF_IMAGE_STATE)).not.toBe(layout.IMAGE_HASHED);
  });

  test("every load event gets the sha256 and size of its module file", () => {
    const { events, images } = decode(chunks);
    const loads = events.filter((e) => LOADS.includes(e.eventName));
    expect(loads.length).toBeGreaterThanOrEqual(12);
    for (const e of loads) {
      const want = expected(e, events);
      expect(want).toBeDefined();
      expect({ event: e.eventName, sha256: e.sha256, size: e.size, error: e.sha256Error }).toEqual({ event: e.eventName, sha256: want!.sha256, size: want!.size, error: undefined });
    }
    expect(images.counts).toEqual({ imagesHashed: new Set(loads.map((e) => e.callId)).size, imagesRingFull: 0, imagesLost: 0 });
    for (const e of events.filter((e) => !LOADS.includes(e.eventName))) expect([e.sha256, e.size, e.sha256Error]).toEqual([undefined, undefined, undefined]);
  });

  test("an image of two chunks (mrp) is hashed whole", () => {
    const { events } = decode(chunks);
    const mrp = truth.find((t) => t.path.endsWith("/mrp.ko"))!;
    expect(mrp.size).toBeGreaterThan(layout.CHUNK_BYTES);
    expect(events.filter((e) => e.sha256 === mrp.sha256).map((e) => e.eventName).sort()).toEqual(["finit_module", "module_load"]);
  });

  const idOf = (c: Buffer) => c.readBigUInt64LE(layout.CHUNK_OFF_IMAGE_ID);
  const mrpChunks = () => {
    const { events } = decode(chunks);
    const call = events.find((e) => e.eventName === "finit_module" && e.moduleName === "mrp");
    return chunks.filter((c) => idOf(c) === BigInt(call.callId));
  };

  test("a missing, reordered or altered chunk never gives a hash, and only that image loses it", () => {
    const [first, second] = mrpChunks();
    expect(second).toBeDefined();
    const wrongTotal = Buffer.from(second);
    wrongTotal.writeBigUInt64LE(BigInt(truthSize("mrp") + 1), layout.CHUNK_OFF_TOTAL);
    const damaged = [
      chunks.filter((c) => c !== second), // the last chunk never arrived
      chunks.map((c) => (c === first ? second : c === second ? first : c)), // out of order
      chunks.map((c) => (c === second ? wrongTotal : c)), // another image's total
    ];
    for (const list of damaged) {
      const { events, images } = decode(list);
      for (const e of events.filter((e) => LOADS.includes(e.eventName))) {
        if (e.moduleName === "mrp" || (e.eventName === "module_load" && arg(e, "name") === "mrp")) {
          expect(e.sha256).toBeUndefined();
          expect(e.sha256Error).toBe("image chunks went missing on their way to modtrace");
        } else expect(e.sha256).toBe(expected(e, events)!.sha256);
      }
      expect(images.counts.imagesLost).toBe(1);
    }
  });

  test("CBOR of kernel-side events: maps the right size (a strict decoder agrees), the same as JSON", () => {
    const { events } = decode(chunks);
    const { out } = decode(chunks, records, "cbor");
    expect(strictItemCount(out)).toBe(records.length);
    const maps = cborItems(out).map((e) => ({ ...e, ...(e.sha256 && { sha256: Buffer.from(e.sha256).toString("hex") }) }));
    expect(maps).toEqual(events);
  });

  test("kernel-side events: names, signatures and the calls they belong to", () => {
    const { events } = decode(chunks);
    for (const load of events.filter((e) => e.eventName === "module_load")) {
      const call = events.find((e) => e.callId === load.callId && (e.eventName === "finit_module" || e.eventName === "init_module"));
      expect(call.moduleName).toBe(arg(load, "name"));
      expect(arg(load, "sig_ok")).toBe(true); // Debian signs its modules
      expect(arg(load, "taints")).toBe(0);
      const init = events.find((e) => e.callId === load.callId && e.eventName === "do_init_module");
      expect(init.returnValue).toBe(0);
      expect(arg(init, "name")).toBe(arg(load, "name"));
    }
    for (const unload of events.filter((e) => e.eventName === "delete_module")) {
      const free = events.find((e) => e.callId === unload.callId && e.eventName === "module_free");
      expect(arg(free, "name")).toBe(arg(unload, "name"));
    }
    const request = events.find((e) => e.eventName === "module_request");
    expect(arg(request, "name")).toBe("fs-iso9660");
    expect(arg(request, "wait")).toBe(true);
  });
});

function truthSize(name: string) {
  return truth.find((t) => t.path.endsWith(`/${name}.ko`))!.size;
}
