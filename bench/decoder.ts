// Decoder throughput: the WebAssembly decoder against an idiomatic
// TypeScript decoder (DataView into objects, then cbor-x and JSON.stringify,
// per event or the whole batch in one call) over the same records captured
// from real kernels (this machine's syscall attempts and the VM's kernel-side
// events: module_load, do_init_module, …), and against a plain copy of the
// same bytes. Everything is measured in this one process, side by side.
import { Encoder } from "cbor-x/encode";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { Decoder, layout } from "../decoder/host";
import { EVENTS, type ArgSource } from "../catalogue/events";
import { splitRaw, splitRecords } from "../tests/lib/records";

export const BATCH_RECORDS = 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);

const fixture = [
  ...splitRecords(readFileSync(new URL("../tests/fixtures/kernel-6.18.raw", import.meta.url))),
  ...splitRaw(gunzipSync(readFileSync(new URL("../tests/fixtures/kernel-6.1-images.raw.gz", import.meta.url)))).records,
];
export const batch = Buffer.concat(Array.from({ length: BATCH_RECORDS }, (_, i) => fixture[i % fixture.length]));

const text = new TextDecoder();
function slot(view: DataView, at: number, index: number): string | null {
  const state = view.getUint8(at + layout.REC_OFF_STR_STATE + index);
  if (state !== layout.STR_OK && state !== layout.STR_TRUNCATED) return null;
  const len = view.getUint16(at + layout.REC_OFF_STR_LEN + 2 * index, true);
  const start = at + view.getUint16(at + layout.REC_OFF_STR_OFF + 2 * index, true);
  return text.decode(batch.subarray(start, start + len));
}

/** An argument's value, from where the catalogue says it lives. */
function argValue(view: DataView, at: number, from: ArgSource): unknown {
  const u64 = (off: number) => Number(view.getBigUint64(at + off, true));
  switch (from) {
    case "args0": return u64(layout.REC_OFF_ARGS);
    case "args1": return u64(layout.REC_OFF_ARGS + 8);
    case "args2": return u64(layout.REC_OFF_ARGS + 16);
    case "waitFlag": return u64(layout.REC_OFF_ARGS) !== 0;
    case "strArg": return slot(view, at, layout.SLOT_ARG);
    case "strFile": return slot(view, at, layout.SLOT_FILE);
    case "strModule": return slot(view, at, layout.SLOT_MODULE);
    case "strVersion": return slot(view, at, layout.SLOT_VERSION);
    case "strSrcversion": return slot(view, at, layout.SLOT_SRCVERSION);
    case "fileDev": return view.getUint32(at + layout.REC_OFF_FILE_DEV, true);
    case "fileIno": return u64(layout.REC_OFF_FILE_INO);
    case "taints": return u64(layout.REC_OFF_TAINTS);
    case "sigOk": {
      const flags = view.getUint32(at + layout.REC_OFF_FLAGS, true);
      return flags & layout.FLAG_SIG_OK_KNOWN ? (flags & layout.FLAG_SIG_OK) !== 0 : null;
    }
  }
}

// The container from the cgroup path, as a TypeScript tool would find it: one regex.
const CONTAINER = /(?:docker|cri-containerd|crio|libpod)-([0-9a-f]{64})(?:\.scope)?$/;

/** The caller's context (layout 4), the same fields the decoder writes. */
function context(view: DataView, at: number): object {
  const flags = view.getUint32(at + layout.REC_OFF_CONTEXT, true);
  const caps = view.getBigUint64(at + layout.REC_OFF_CAP_EFFECTIVE, true);
  const cgroup = slot(view, at, layout.SLOT_CGROUP);
  const id = cgroup ? CONTAINER.exec(cgroup)?.[1] : undefined;
  const ancestors: object[] = [];
  for (let i = 0; i < view.getUint8(at + layout.REC_OFF_ANCESTOR_COUNT); i++) {
    const a = at + layout.REC_OFF_ANCESTORS + i * layout.ANCESTOR_SIZE;
    const comm = batch.subarray(a + layout.ANCESTOR_OFF_COMM, a + layout.ANCESTOR_OFF_COMM + layout.COMM_LEN);
    ancestors.push({
      hostProcessId: view.getUint32(a + layout.ANCESTOR_OFF_HOST_PID, true),
      processName: text.decode(comm.subarray(0, Math.max(0, comm.indexOf(0)))),
      startTime: Number(view.getBigUint64(a + layout.ANCESTOR_OFF_START_NS, true)),
      executable: { path: slot(view, at, layout.SLOT_ANCESTOR_EXE + i) },
    });
  }
  return {
    userNamespace: view.getUint32(at + layout.REC_OFF_USER_NS, true),
    initialNamespaces: { user: (flags & layout.CONTEXT_INIT_USER_NS) !== 0, pid: (flags & layout.CONTEXT_INIT_PID_NS) !== 0, mount: (flags & layout.CONTEXT_INIT_MNT_NS) !== 0 },
    effectiveUserId: view.getUint32(at + layout.REC_OFF_EUID, true),
    loginUserId: view.getUint32(at + layout.REC_OFF_LOGINUID, true),
    sessionId: view.getUint32(at + layout.REC_OFF_SESSIONID, true),
    capabilities: { effective: Number(caps), sysModule: ((caps >> 16n) & 1n) === 1n },
    cgroup: { path: cgroup },
    ...(id && { container: { id, runtime: "docker" } }),
    inContainer: id !== undefined,
    ancestors,
  };
}

/** What a TypeScript tool would naturally write: one object per event. */
function toObjects(): object[] {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const out: object[] = [];
  for (let at = 0; at < batch.length; at += view.getUint32(at + layout.REC_OFF_SIZE, true)) {
    const event = EVENTS.find((e) => e.id === view.getUint8(at + layout.REC_OFF_EVENT))!;
    const comm = batch.subarray(at + layout.REC_OFF_COMM, at + layout.REC_OFF_COMM + layout.COMM_LEN);
    out.push({
      timestamp: Number(view.getBigUint64(at + layout.REC_OFF_BOOT_NS, true)),
      processId: view.getUint32(at + layout.REC_OFF_PID, true),
      threadId: view.getUint32(at + layout.REC_OFF_TID, true),
      parentProcessId: view.getUint32(at + layout.REC_OFF_PPID, true),
      hostProcessId: view.getUint32(at + layout.REC_OFF_HOST_PID, true),
      hostThreadId: view.getUint32(at + layout.REC_OFF_HOST_TID, true),
      hostParentProcessId: view.getUint32(at + layout.REC_OFF_HOST_PPID, true),
      userId: view.getUint32(at + layout.REC_OFF_UID, true),
      groupId: view.getUint32(at + layout.REC_OFF_GID, true),
      processName: text.decode(comm.subarray(0, Math.max(0, comm.indexOf(0)))),
      executable: { path: slot(view, at, layout.SLOT_EXE) },
      cgroupId: Number(view.getBigUint64(at + layout.REC_OFF_CGROUP_ID, true)),
      mountNamespace: view.getUint32(at + layout.REC_OFF_MNT_NS, true),
      pidNamespace: view.getUint32(at + layout.REC_OFF_PID_NS, true),
      ...context(view, at),
      eventName: event.name,
      returnValue: Number(view.getBigInt64(at + layout.REC_OFF_RET, true)),
      args: event.args.map((a) => ({ name: a.name, value: argValue(view, at, a.from) })),
    });
  }
  return out;
}

export type Variant = [name: string, run: () => number]; // run returns the bytes it wrote

/** Runs every variant once per round, in turn, so that a slow spell of the machine
 * hits them all alike; ratios are medians of the per-round ratios. */
export function timeInterleaved(variants: Variant[]): Map<string, number[]> {
  const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (const [, run] of variants) run(); // warm-up
  for (let i = 0; i < ROUNDS; i++)
    for (const [name, run] of variants) {
      const start = Bun.nanoseconds();
      run();
      times.get(name)!.push((Bun.nanoseconds() - start) / 1e9);
    }
  return times;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const medianRatio = (slow: number[], fast: number[]) => median(slow.map((t, i) => t / fast[i]));

export async function benchDecoder(): Promise<string[]> {
  const decoder = await Decoder.load(readFileSync(new URL("../build/decoder.wasm", import.meta.url)));
  const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
  const scratch = new Uint8Array(batch.length);
  const events = BATCH_RECORDS * ROUNDS;
  decoder.setRowPrefix(new TextEncoder().encode('{"schemaVersion":8,"host":"bench","kernel":"6.1.0","bootTime":1700000000000000000'));
  const times = timeInterleaved([
    ["memcpy of the records", () => (scratch.set(batch), batch.length)],
    ["wasm → cbor", () => (decoder.inputView(batch.length).set(batch), decoder.decode(batch.length, "cbor").length)],
    ["wasm → json", () => (decoder.inputView(batch.length).set(batch), decoder.decode(batch.length, "json").length)],
    ["wasm → text", () => (decoder.inputView(batch.length).set(batch), decoder.decode(batch.length, "text").length)],
    // -o rows: a line of the events table per event (the log header's columns given once).
    ["wasm → row", () => (decoder.inputView(batch.length).set(batch), decoder.decode(batch.length, "row").length)],
    ["ts DataView + cbor-x", () => toObjects().reduce((n: number, o) => n + cbor.encode(o).length, 0)],
    ["ts DataView + JSON.stringify", () => toObjects().reduce((n: number, o) => n + JSON.stringify(o).length + 1, 0)],
    // The whole batch in one library call: no per-event call overhead.
    ["ts DataView + cbor-x, one call", () => cbor.encode(toObjects()).length],
    ["ts DataView + JSON, one call", () => JSON.stringify(toObjects()).length],
  ]);
  const t = (name: string) => times.get(name)!;
  const line = (name: string) => {
    const perBatch = median(t(name));
    return `  ${name.padEnd(30)} ${(BATCH_RECORDS / perBatch / 1e6).toFixed(2).padStart(6)} M events/s ${(batch.length / perBatch / 2 ** 20).toFixed(0).padStart(6)} MiB/s in` +
      `   memcpy x${medianRatio(t(name), t("memcpy of the records")).toFixed(1)} slower`;
  };
  return [
    `Decoder throughput: batches of ${BATCH_RECORDS} records (${(batch.length / BATCH_RECORDS).toFixed(0)} bytes each on average: syscall attempts from this kernel, kernel-side events from the 6.1 VM), ${ROUNDS} rounds, variants interleaved; medians`,
    ...[...times.keys()].map(line),
    `  wasm/ts speed-up for CBOR: x${medianRatio(t("ts DataView + cbor-x"), t("wasm → cbor")).toFixed(2)} (target ≥ 5)`,
    `  wasm/ts speed-up for JSON: x${medianRatio(t("ts DataView + JSON.stringify"), t("wasm → json")).toFixed(2)} (target: clearly above 1)`,
    `  against one call per batch: CBOR x${medianRatio(t("ts DataView + cbor-x, one call"), t("wasm → cbor")).toFixed(2)}, JSON x${medianRatio(t("ts DataView + JSON, one call"), t("wasm → json")).toFixed(2)}`,
  ];
}

if (import.meta.main) for (const l of await benchDecoder()) console.log(l);
