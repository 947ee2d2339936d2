// Rebuilds the kernel's records (struct mt_record) from a log's event maps,
// so `modtrace read` renders them with the same WebAssembly decoder as a live
// capture: output from a log is byte for byte what capture printed.
import * as layout from "./layout";
import { ARG_SOURCES, EVENTS, type ArgInfo, type EventInfo } from "../catalogue/events";
import { RECORD_FIELDS, RECORD_WIDTH } from "../catalogue/fields";
import * as imageTexts from "../decoder/assembly/image-texts";
import { writeContextFields, type RecordWriter } from "./context-record";
import type { Decoder } from "../decoder/host";
import type { RecordSource } from "./record-source";

export type { RecordSource } from "./record-source";

const HOOK_IDS: Record<string, number> = Object.fromEntries(
  Object.entries(layout).filter(([k]) => k.startsWith("HOOK_")).map(([k, v]) => [k.slice(5).toLowerCase(), v as number]),
);

export class RecordError extends Error {}

/** The layout's constants by name: where the catalogue and the field table name a member, slot or flag. */
const LAYOUT = layout as unknown as Record<string, number>;


const RING_FULL = new RegExp(`^${imageTexts.RING_FULL_BEFORE}(\\d+)${imageTexts.RING_FULL_BETWEEN}\\d+${imageTexts.RING_FULL_AFTER.replace(/[()-]/g, "\\$&")}$`);

/** A load event's image, or a helper's file (decoder/assembly/image.ts): state, size, bytes
 * sent and digest, from sha256, size and sha256Error. */
function image(e: RecordSource): { state: number; size: unknown; sent: unknown; digest?: Uint8Array } {
  if (e.sha256 !== undefined) {
    const digest = e.sha256 instanceof Uint8Array ? e.sha256 : typeof e.sha256 === "string" ? Buffer.from(e.sha256, "hex") : undefined;
    if (!digest || digest.length !== layout.REC_LEN_SHA256) throw new RecordError("sha256 is not 32 bytes");
    return { state: layout.IMAGE_HASHED, size: e.size, sent: e.size, digest };
  }
  if (e.sha256Error === undefined) return { state: layout.IMAGE_NONE, size: 0, sent: 0 };
  if (e.sha256Error === imageTexts.NO_HOOK) return { state: layout.IMAGE_NO_HOOK, size: 0, sent: 0 };
  if (e.sha256Error === imageTexts.LOST) return { state: layout.IMAGE_LOST, size: e.size, sent: e.size };
  if (e.sha256Error === imageTexts.UNREAD) return { state: layout.IMAGE_UNREAD, size: 0, sent: 0 };
  if (e.sha256Error === imageTexts.NOT_READ) return { state: layout.IMAGE_ON_DISK, size: 0, sent: 0 };
  const full = RING_FULL.exec(String(e.sha256Error));
  if (full) return { state: layout.IMAGE_RING_FULL, size: e.size, sent: BigInt(full[1]) };
  throw new RecordError(`unknown sha256Error '${e.sha256Error}'`);
}

/** The record flags an event map says as keys that are there only when true. */
const FLAG_KEYS: [keyof RecordSource, number][] = [
  ["compat", layout.FLAG_COMPAT],
  ["fileUnlinked", layout.FLAG_FILE_UNLINKED],
  ["fileOtherMount", layout.FLAG_FILE_OTHER_MNT],
  ["fileSwapped", layout.FLAG_FILE_SWAPPED],
  ["noLoadCall", layout.FLAG_NO_LOAD_CALL],
];

/** The fields the table reads straight from the record: where each goes,
 * and the record flag that says it is there. */
const RECORD_PLACEMENTS = RECORD_FIELDS.map((f) => ({
  key: f.key,
  type: f.type,
  off: LAYOUT[`REC_OFF_${f.record.field.toUpperCase()}`],
  flag: LAYOUT[`FLAG_${f.record.presentWith}`],
}));

const utf8 = new TextEncoder();

/** The arguments of each event, where the catalogue says the kernel put
 * them: a string slot, or a field's byte offset and the width its format
 * reads (dev and sigOk: 32 bits; the rest: 64). Worked out once. */
interface ArgPlacement {
  spec: ArgInfo;
  slot?: number;
  off: number;
  /** The record flag that says it is there (0: always there). */
  flag: number;
}
const PLACEMENTS = new Map<string, { info: EventInfo; args: ArgPlacement[] }>();
{
  for (const info of EVENTS)
    PLACEMENTS.set(info.name, {
      info,
      args: info.args.map((spec) => {
        const source = ARG_SOURCES[spec.from];
        const flag = spec.presentWith ? LAYOUT[`FLAG_${spec.presentWith}`] : 0;
        return "slot" in source ? { spec, slot: LAYOUT[`SLOT_${source.slot}`], off: 0, flag } : { spec, off: LAYOUT[`REC_OFF_${source.field.toUpperCase()}`] + source.at, flag };
      }),
    });
}

const TWO_32 = 4294967296;

function integer(v: unknown, what: string): number | bigint {
  if (typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v))) return v;
  throw new RecordError(`${what} is not an integer`);
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== "boolean") throw new RecordError(`${what} is not a boolean`);
  return v;
}

/** One record being written at bytes[at]: its fixed part, then its strings
 * one after another (size: where the next goes). Every write checks the
 * map's value as it goes; nothing is allocated for a well-formed event. */
class RecordBuilder implements RecordWriter {
  size = layout.REC_SIZE;
  constructor(
    private view: DataView,
    private bytes: Uint8Array,
    private at: number,
  ) {}

  u8(off: number, v: number) {
    this.view.setUint8(this.at + off, v);
  }

  u32(off: number, v: unknown, what: string) {
    const n = integer(v, what);
    // As a 32-bit store of the integer: the low 32 bits.
    this.view.setUint32(this.at + off, typeof n === "bigint" ? Number(BigInt.asUintN(32, n)) : n, true);
  }

  u64(off: number, v: unknown, what: string) {
    const n = integer(v, what);
    if (typeof n === "bigint" || !Number.isSafeInteger(n)) {
      this.view.setBigUint64(this.at + off, BigInt.asUintN(64, BigInt(n)), true);
      return;
    }
    // Two 32-bit halves, two's complement for a negative: no BigInt for the common case.
    const hi = Math.floor(n / TWO_32);
    this.view.setUint32(this.at + off, n - hi * TWO_32, true);
    this.view.setInt32(this.at + off + 4, hi, true);
  }

  /** A command name (comm) at off: its exact bytes where the map has them, else its text; cut to what the kernel keeps. */
  comm(off: number, raw: unknown, name: unknown) {
    if (raw instanceof Uint8Array) this.bytes.set(raw.subarray(0, layout.COMM_LEN - 1), this.at + off);
    else this.text(String(name ?? ""), this.at + off, layout.COMM_LEN - 1);
  }

  /** A string slot from its value and the map beside it ({truncated, error, raw}). */
  slot(index: number, value: unknown, extras: any, what: string) {
    let len = 0;
    let state: number;
    const start = this.at + this.size;
    if (value === null || value === undefined) {
      state = extras?.error ? layout.STR_FAULT : layout.STR_ABSENT;
    } else {
      if (typeof value !== "string") throw new RecordError(`${what} is not a string`);
      const raw = extras?.raw;
      if (raw instanceof Uint8Array) {
        if (raw.length >= layout.STR_LEN) throw new RecordError(`${what} is longer than a record holds`);
        this.bytes.set(raw, start);
        len = raw.length;
      } else {
        len = this.text(value, start, layout.STR_LEN - 1, what);
      }
      state = extras?.truncated ? layout.STR_TRUNCATED : layout.STR_OK;
    }
    this.view.setUint16(this.at + layout.REC_OFF_STR_OFF + index * 2, this.size, true);
    this.view.setUint16(this.at + layout.REC_OFF_STR_LEN + index * 2, len, true);
    this.view.setUint8(this.at + layout.REC_OFF_STR_STATE + index, state);
    this.size += len;
  }

  /** s as UTF-8 at bytes[start], at most max bytes (more: RecordError, or
   * cut when what is undefined); its length. ASCII, nearly every string
   * here, is copied a character at a time. */
  text(s: string, start: number, max: number, what?: string): number {
    const n = s.length;
    let i = 0;
    if (n <= max) for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      this.bytes[start + i] = c;
    }
    if (i === n) return n;
    if (what === undefined) {
      const cut = utf8.encode(s).subarray(0, max);
      this.bytes.set(cut, start);
      return cut.length;
    }
    const r = utf8.encodeInto(s, this.bytes.subarray(start, start + max + 1));
    if (r.read < n || r.written > max) throw new RecordError(`${what} is longer than a record holds`);
    return r.written;
  }

  fail(message: string): never {
    throw new RecordError(message);
  }
}

/** Writes the record for event map e at view[at], which has room for
 * layout.RECORD_MAX bytes; returns its size. Throws RecordError on a map that
 * no record can give. */
export function writeRecord(e: RecordSource, view: DataView, bytes: Uint8Array, at: number): number {
  const placed = PLACEMENTS.get(e.eventName);
  if (!placed) throw new RecordError(`unknown event '${e.eventName}'`);
  const info = placed.info;
  const hook = HOOK_IDS[e.hook];
  if (hook === undefined) throw new RecordError(`unknown hook '${e.hook}'`);
  bytes.fill(0, at, at + layout.REC_SIZE);
  const w = new RecordBuilder(view, bytes, at);

  view.setUint8(at + layout.REC_OFF_EVENT, info.id);
  view.setUint8(at + layout.REC_OFF_HOOK, hook);
  // Read runs the decoder with a zero clock offset: boot time is wall time.
  w.u64(layout.REC_OFF_BOOT_NS, e.timestamp, "timestamp");
  w.u64(layout.REC_OFF_CGROUP_ID, e.cgroupId, "cgroupId");
  w.u64(layout.REC_OFF_RET, e.returnValue, "returnValue");
  w.u32(layout.REC_OFF_HOST_PID, e.hostProcessId, "hostProcessId");
  w.u32(layout.REC_OFF_HOST_TID, e.hostThreadId, "hostThreadId");
  w.u32(layout.REC_OFF_HOST_PPID, e.hostParentProcessId, "hostParentProcessId");
  w.u32(layout.REC_OFF_PID, e.processId, "processId");
  w.u32(layout.REC_OFF_TID, e.threadId, "threadId");
  w.u32(layout.REC_OFF_PPID, e.parentProcessId, "parentProcessId");
  w.u32(layout.REC_OFF_UID, e.userId, "userId");
  w.u32(layout.REC_OFF_GID, e.groupId, "groupId");
  w.u32(layout.REC_OFF_MNT_NS, e.mountNamespace, "mountNamespace");
  w.u32(layout.REC_OFF_PID_NS, e.pidNamespace, "pidNamespace");
  w.comm(layout.REC_OFF_COMM, e.processNameRaw, e.processName);
  w.slot(layout.SLOT_EXE, e.executable?.path, e.executable, "executable.path");
  const context = writeContextFields(e, w);
  view.setUint32(at + layout.REC_OFF_CONTEXT, context, true);

  let flags = 0;
  for (const { spec, slot, off, flag } of placed.args) {
    let a: RecordSource["args"][number] | undefined;
    for (const x of e.args) if (x?.name === spec.name) {
      a = x;
      break;
    }
    if (!a && flag) continue; // not given (a log of an older modtrace): its flag stays off
    if (!a) throw new RecordError(`${e.eventName} has no argument ${spec.name}`);
    flags |= flag;
    if (slot !== undefined) w.slot(slot, a.value, a, a.name);
    else if (spec.format === "sigOk") {
      if (a.value !== null) flags |= layout.FLAG_SIG_OK_KNOWN | (bool(a.value, a.name) ? layout.FLAG_SIG_OK : 0);
    } else if (spec.format === "bool") w.u64(off, bool(a.value, a.name) ? 1 : 0, a.name);
    else if (spec.format === "dev") w.u32(off, a.value, a.name);
    else w.u64(off, a.value, a.name);
  }
  if (e.callId !== undefined) {
    w.u64(layout.REC_OFF_CALL_ID, e.callId, "callId");
    if (info.kind !== "syscall") flags |= layout.FLAG_IN_SYSCALL;
  }
  if (e.moduleName !== undefined) w.slot(layout.SLOT_MODULE, e.moduleName, undefined, "moduleName");
  for (const [key, bit] of FLAG_KEYS) if (e[key] !== undefined && bool(e[key], key)) flags |= bit;
  for (const { key, type, off, flag } of RECORD_PLACEMENTS) {
    const v = (e as Record<string, unknown>)[key];
    if (v === undefined) continue; // not given (a log of an older modtrace): its flag stays off
    if (type === "bool") w.u8(off, bool(v, key) ? 1 : 0);
    else if (RECORD_WIDTH[type] === 4) w.u32(off, v, key);
    else w.u64(off, v, key);
    flags |= flag;
  }
  const img = image(e);
  if (img.state !== layout.IMAGE_NONE) {
    view.setUint8(at + layout.REC_OFF_IMAGE_STATE, img.state);
    w.u64(layout.REC_OFF_IMAGE_SIZE, img.size, "size");
    w.u64(layout.REC_OFF_IMAGE_SENT, img.sent, "sha256Error");
    if (img.digest) bytes.set(img.digest, at + layout.REC_OFF_SHA256);
  }
  view.setUint32(at + layout.REC_OFF_FLAGS, flags, true);
  const size = (w.size + 7) & ~7;
  view.setUint32(at + layout.REC_OFF_SIZE, size, true);
  view.setUint16(at + layout.REC_OFF_VERSION, layout.LAYOUT_VERSION, true);
  return size;
}

/** Where the log reader keeps the record it built to judge an event valid
 * (log/reader.ts): it yields that record with the event, not build it again. */
export const BUILT_RECORD = Symbol("the event's record, as built from it");

/** Writes the records of event maps one after another into the decoder's
 * input buffer (as putRecords), building each from its map. */
export function writeRecords(events: RecordSource[], decoder: Decoder, capacity = events.length): number {
  const view = decoder.inputView(Math.max(capacity, events.length) * layout.RECORD_MAX);
  const data = new DataView(view.buffer, view.byteOffset, view.byteLength);
  let at = 0;
  for (const e of events) at += writeRecord(e, data, view, at);
  return at;
}
