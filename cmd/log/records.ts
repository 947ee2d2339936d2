// Rebuilds the kernel's records (struct mt_record) from a log's event maps,
// so `modtrace read` renders them with the same WebAssembly decoder as a live
// capture: output from a log is byte for byte what capture printed.
import * as layout from "../../decoder/assembly/generated/layout";
import { ARG_SOURCES, eventByName, type ArgInfo } from "../../catalogue/events";
import * as imageTexts from "../../decoder/assembly/image-texts";
import { writeContextFields } from "./context-record";
import type { Decoder } from "../../decoder/host";

const HOOK_IDS: Record<string, number> = Object.fromEntries(
  Object.entries(layout).filter(([k]) => k.startsWith("HOOK_")).map(([k, v]) => [k.slice(5).toLowerCase(), v as number]),
);

export class RecordError extends Error {}

function slotBytes(field: any, what: string): { bytes: Uint8Array; state: number } {
  if (field.value === null || field.value === undefined)
    return { bytes: new Uint8Array(), state: field.error ? layout.STR_FAULT : layout.STR_ABSENT };
  if (typeof field.value !== "string") throw new RecordError(`${what} is not a string`);
  const bytes = field.raw instanceof Uint8Array ? field.raw : Buffer.from(field.value, "utf8");
  if (bytes.length >= layout.STR_LEN) throw new RecordError(`${what} is longer than a record holds`);
  return { bytes, state: field.truncated ? layout.STR_TRUNCATED : layout.STR_OK };
}

function big(v: unknown, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  throw new RecordError(`${what} is not an integer`);
}

const RING_FULL = new RegExp(`^${imageTexts.RING_FULL_BEFORE}(\\d+)${imageTexts.RING_FULL_BETWEEN}\\d+${imageTexts.RING_FULL_AFTER.replace(/[()-]/g, "\\$&")}$`);

/** A load event's image (decoder/assembly/image.ts): state, size, bytes
 * sent and digest, from sha256, size and sha256Error. */
function image(e: any): { state: number; size: unknown; sent: unknown; digest?: Uint8Array } {
  if (e.sha256 !== undefined) {
    const digest = e.sha256 instanceof Uint8Array ? e.sha256 : typeof e.sha256 === "string" ? Buffer.from(e.sha256, "hex") : undefined;
    if (!digest || digest.length !== layout.REC_LEN_SHA256) throw new RecordError("sha256 is not 32 bytes");
    return { state: layout.IMAGE_HASHED, size: e.size, sent: e.size, digest };
  }
  if (e.sha256Error === undefined) return { state: layout.IMAGE_NONE, size: 0, sent: 0 };
  if (e.sha256Error === imageTexts.NO_HOOK) return { state: layout.IMAGE_NO_HOOK, size: 0, sent: 0 };
  if (e.sha256Error === imageTexts.LOST) return { state: layout.IMAGE_LOST, size: e.size, sent: e.size };
  const full = RING_FULL.exec(String(e.sha256Error));
  if (full) return { state: layout.IMAGE_RING_FULL, size: e.size, sent: BigInt(full[1]) };
  throw new RecordError(`unknown sha256Error '${e.sha256Error}'`);
}

/** The record flags an event map says as keys that are there only when true. */
const FLAG_KEYS: [string, number][] = [
  ["compat", layout.FLAG_COMPAT],
  ["fileUnlinked", layout.FLAG_FILE_UNLINKED],
  ["fileOtherMount", layout.FLAG_FILE_OTHER_MNT],
  ["fileSwapped", layout.FLAG_FILE_SWAPPED],
  ["noLoadCall", layout.FLAG_NO_LOAD_CALL],
];

/** Writes the record for event map e at view[at], which has room for
 * layout.RECORD_MAX bytes; returns its size. Throws RecordError on a map that
 * no record can give. */
export function writeRecord(e: any, view: DataView, bytes: Uint8Array, at: number): number {
  const info = eventByName(e.eventName);
  if (!info) throw new RecordError(`unknown event '${e.eventName}'`);
  const hook = HOOK_IDS[e.hook];
  if (hook === undefined) throw new RecordError(`unknown hook '${e.hook}'`);
  bytes.fill(0, at, at + layout.REC_SIZE);
  const u32 = (off: number, v: unknown, what: string) => view.setUint32(at + off, Number(big(v, what)), true);
  const u64 = (off: number, v: unknown, what: string) => view.setBigUint64(at + off, BigInt.asUintN(64, big(v, what)), true);
  let size = layout.REC_SIZE;
  const slot = (index: number, field: any, what: string) => {
    const s = slotBytes(field, what);
    bytes.set(s.bytes, at + size);
    view.setUint16(at + layout.REC_OFF_STR_OFF + index * 2, size, true);
    view.setUint16(at + layout.REC_OFF_STR_LEN + index * 2, s.bytes.length, true);
    view.setUint8(at + layout.REC_OFF_STR_STATE + index, s.state);
    size += s.bytes.length;
  };

  view.setUint8(at + layout.REC_OFF_EVENT, info.id);
  view.setUint8(at + layout.REC_OFF_HOOK, hook);
  // Read runs the decoder with a zero clock offset: boot time is wall time.
  u64(layout.REC_OFF_BOOT_NS, e.timestamp, "timestamp");
  u64(layout.REC_OFF_CGROUP_ID, e.cgroupId, "cgroupId");
  u64(layout.REC_OFF_RET, e.returnValue, "returnValue");
  u32(layout.REC_OFF_HOST_PID, e.hostProcessId, "hostProcessId");
  u32(layout.REC_OFF_HOST_TID, e.hostThreadId, "hostThreadId");
  u32(layout.REC_OFF_HOST_PPID, e.hostParentProcessId, "hostParentProcessId");
  u32(layout.REC_OFF_PID, e.processId, "processId");
  u32(layout.REC_OFF_TID, e.threadId, "threadId");
  u32(layout.REC_OFF_PPID, e.parentProcessId, "parentProcessId");
  u32(layout.REC_OFF_UID, e.userId, "userId");
  u32(layout.REC_OFF_GID, e.groupId, "groupId");
  u32(layout.REC_OFF_MNT_NS, e.mountNamespace, "mountNamespace");
  u32(layout.REC_OFF_PID_NS, e.pidNamespace, "pidNamespace");
  const comm = e.processNameRaw instanceof Uint8Array ? e.processNameRaw : Buffer.from(String(e.processName ?? ""), "utf8");
  bytes.set(comm.subarray(0, layout.COMM_LEN - 1), at + layout.REC_OFF_COMM);
  slot(layout.SLOT_EXE, { value: e.executable?.path, ...e.executable }, "executable.path");
  const context = writeContextFields(e, {
    u8: (off, v) => view.setUint8(at + off, v),
    u32,
    u64,
    bytes: (off, b) => bytes.set(b, at + off),
    slot,
    fail: (message) => {
      throw new RecordError(message);
    },
  });
  view.setUint32(at + layout.REC_OFF_CONTEXT, context, true);

  let flags = 0;
  const bool = (v: unknown, what: string) => {
    if (typeof v !== "boolean") throw new RecordError(`${what} is not a boolean`);
    return v;
  };
  const constants = layout as unknown as Record<string, number>;
  // Each argument back where the catalogue says the kernel put it, at the
  // width its format reads (dev and sigOk: 32 bits; the rest: 64).
  const put = (spec: ArgInfo, a: any) => {
    const source = ARG_SOURCES[spec.from];
    if ("slot" in source) return slot(constants[`SLOT_${source.slot}`], a, a.name);
    const off = constants[`REC_OFF_${source.field.toUpperCase()}`] + source.at;
    switch (spec.format) {
      case "sigOk":
        if (a.value !== null) flags |= layout.FLAG_SIG_OK_KNOWN | (bool(a.value, a.name) ? layout.FLAG_SIG_OK : 0);
        return;
      case "bool":
        return u64(off, bool(a.value, a.name) ? 1 : 0, a.name);
      case "dev":
        return u32(off, a.value, a.name);
      default:
        return u64(off, a.value, a.name);
    }
  };
  for (const spec of info.args) {
    const a = e.args.find((x: any) => x?.name === spec.name);
    if (!a && spec.addedLater) continue; // an older modtrace's log: left 0
    if (!a) throw new RecordError(`${e.eventName} has no argument ${spec.name}`);
    put(spec, a);
  }
  if (e.callId !== undefined) {
    u64(layout.REC_OFF_CALL_ID, e.callId, "callId");
    if (info.kind !== "syscall") flags |= layout.FLAG_IN_SYSCALL;
  }
  if (e.moduleName !== undefined) slot(layout.SLOT_MODULE, { value: e.moduleName }, "moduleName");
  for (const [key, bit] of FLAG_KEYS) if (e[key] !== undefined && bool(e[key], key)) flags |= bit;
  const img = image(e);
  if (img.state !== layout.IMAGE_NONE) {
    view.setUint8(at + layout.REC_OFF_IMAGE_STATE, img.state);
    u64(layout.REC_OFF_IMAGE_SIZE, img.size, "size");
    u64(layout.REC_OFF_IMAGE_SENT, img.sent, "sha256Error");
    if (img.digest) bytes.set(img.digest, at + layout.REC_OFF_SHA256);
  }
  view.setUint32(at + layout.REC_OFF_FLAGS, flags, true);
  size = (size + 7) & ~7;
  view.setUint32(at + layout.REC_OFF_SIZE, size, true);
  view.setUint16(at + layout.REC_OFF_VERSION, layout.LAYOUT_VERSION, true);
  return size;
}

/** Writes the records of event maps (each valid: the log reader yields no
 * other) one after another into the decoder's input buffer, at least
 * `capacity` records' room; returns their bytes, ready for span or decode. */
export function writeRecords(events: any[], decoder: Decoder, capacity = events.length): number {
  const view = decoder.inputView(Math.max(capacity, events.length) * layout.RECORD_MAX);
  const data = new DataView(view.buffer, view.byteOffset, view.byteLength);
  return events.reduce((at, e) => at + writeRecord(e, data, view, at), 0);
}
