// The fields of one struct mt_record (bpf/events.h) that rules read, at an
// offset of a batch of records: the same bytes the decoder turns into events,
// live or rebuilt from a log, so a rule sees the same thing either way. Only
// what a rule asks for is read, each string decoded once; one view walks a
// whole batch (rules copy what they keep), so nothing is allocated per event.
import * as layout from "./layout";
import { EVENTS } from "../catalogue/events";

const NAMES: string[] = [];
for (const e of EVENTS) NAMES[e.id] = e.name;
const utf8 = new TextDecoder();

const NOT_READ = Symbol("not read");

export class EventView {
  private at = 0;
  private ts: bigint | undefined;
  private strings: (string | undefined | typeof NOT_READ)[] = new Array(layout.SLOT_COUNT).fill(NOT_READ);

  constructor(
    private dv: DataView,
    private bytes: Uint8Array,
    private clockOffsetNs: bigint,
  ) {}

  /** Makes this the view of the record at offset at. */
  moveTo(at: number) {
    this.at = at;
    this.ts = undefined;
    this.strings.fill(NOT_READ);
  }

  /** Where the record starts in its batch. */
  get offset(): number {
    return this.at;
  }

  get size(): number {
    return this.dv.getUint32(this.at + layout.REC_OFF_SIZE, true);
  }
  get id(): number {
    return this.dv.getUint8(this.at + layout.REC_OFF_EVENT);
  }
  /** How it was captured (HOOK_*). */
  get hook(): number {
    return this.dv.getUint8(this.at + layout.REC_OFF_HOOK);
  }
  get eventName(): string {
    return NAMES[this.id] ?? `event ${this.id}`;
  }
  /** Wall clock, ns: the event's `timestamp`. */
  get timestamp(): bigint {
    return (this.ts ??= this.dv.getBigUint64(this.at + layout.REC_OFF_BOOT_NS, true) + this.clockOffsetNs);
  }
  get callId(): bigint | undefined {
    const id = this.dv.getBigUint64(this.at + layout.REC_OFF_CALL_ID, true);
    return id === 0n ? undefined : id;
  }
  get returnValue(): number {
    return Number(this.dv.getBigInt64(this.at + layout.REC_OFF_RET, true));
  }
  arg(i: number): bigint {
    return this.dv.getBigUint64(this.at + layout.REC_OFF_ARGS + 8 * i, true);
  }
  /** The low 32 bits of argument i: flags, without a BigInt. */
  argLow(i: number): number {
    return this.dv.getUint32(this.at + layout.REC_OFF_ARGS + 8 * i, true);
  }
  get taints(): bigint {
    return this.dv.getBigUint64(this.at + layout.REC_OFF_TAINTS, true);
  }
  /** sig_ok, or undefined where the kernel does not check signatures. */
  get sigOk(): boolean | undefined {
    const flags = this.u32(layout.REC_OFF_FLAGS);
    return flags & layout.FLAG_SIG_OK_KNOWN ? (flags & layout.FLAG_SIG_OK) !== 0 : undefined;
  }
  /** The cgroup's id, as a number (an inode number: far below 2^53). */
  get cgroupId(): number {
    return Number(this.dv.getBigUint64(this.at + layout.REC_OFF_CGROUP_ID, true));
  }
  get hostProcessId(): number {
    return this.u32(layout.REC_OFF_HOST_PID);
  }
  get userId(): number {
    return this.u32(layout.REC_OFF_UID);
  }
  get effectiveUserId(): number {
    return this.u32(layout.REC_OFF_EUID);
  }
  get loginUserId(): number {
    return this.u32(layout.REC_OFF_LOGINUID);
  }
  get capabilitiesEffective(): bigint {
    return this.dv.getBigUint64(this.at + layout.REC_OFF_CAP_EFFECTIVE, true);
  }
  /** enum mt_context_flag bits. */
  get context(): number {
    return this.u32(layout.REC_OFF_CONTEXT);
  }
  get userNamespace(): number {
    return this.u32(layout.REC_OFF_USER_NS);
  }
  get processName(): string {
    const start = this.at + layout.REC_OFF_COMM;
    let end = start;
    while (end < start + layout.COMM_LEN && this.bytes[end] !== 0) end++;
    return utf8.decode(this.bytes.subarray(start, end));
  }
  get executablePath(): string | undefined {
    return this.str(layout.SLOT_EXE);
  }
  /** MT_FLAG_* bits: the way in (compat) and the standing of finit_module's file. */
  get flags(): number {
    return this.u32(layout.REC_OFF_FLAGS);
  }
  /** Was finit_module's path cut to its tail, so that its head is not the file's? */
  get fileTruncated(): boolean {
    return this.dv.getUint8(this.at + layout.REC_OFF_STR_STATE + layout.SLOT_FILE) === layout.STR_TRUNCATED;
  }
  get fileDev(): number {
    return this.u32(layout.REC_OFF_FILE_DEV);
  }
  get fileIno(): bigint {
    return this.dv.getBigUint64(this.at + layout.REC_OFF_FILE_INO, true);
  }
  /** finit_module's file (and the module_load it caused). */
  get file(): string | undefined {
    return this.str(layout.SLOT_FILE);
  }
  /** The module's name as the kernel has it. */
  get moduleName(): string | undefined {
    return this.str(layout.SLOT_MODULE);
  }
  /** delete_module's name, module_request's, or the load's parameters. */
  get strArg(): string | undefined {
    return this.str(layout.SLOT_ARG);
  }
  get cgroupPath(): string | undefined {
    return this.str(layout.SLOT_CGROUP);
  }
  get ancestorCount(): number {
    return this.dv.getUint8(this.at + layout.REC_OFF_ANCESTOR_COUNT);
  }
  ancestorExe(i: number): string | undefined {
    return this.str(layout.SLOT_ANCESTOR_EXE + i);
  }
  ancestorComm(i: number): string {
    const start = this.at + layout.REC_OFF_ANCESTORS + i * layout.ANCESTOR_SIZE + layout.ANCESTOR_OFF_COMM;
    let end = start;
    while (end < start + layout.COMM_LEN && this.bytes[end] !== 0) end++;
    return utf8.decode(this.bytes.subarray(start, end));
  }
  /** Bytes of the image the kernel was handed, and how many reached the image ring. */
  get imageSize(): bigint {
    return this.dv.getBigUint64(this.at + layout.REC_OFF_IMAGE_SIZE, true);
  }
  get imageSent(): bigint {
    return this.dv.getBigUint64(this.at + layout.REC_OFF_IMAGE_SENT, true);
  }
  get imageState(): number {
    return this.dv.getUint8(this.at + layout.REC_OFF_IMAGE_STATE);
  }
  get sha256(): string | undefined {
    if (this.imageState !== layout.IMAGE_HASHED) return undefined;
    const at = this.at + layout.REC_OFF_SHA256;
    return Buffer.from(this.bytes.subarray(at, at + layout.REC_LEN_SHA256)).toString("hex");
  }

  /** A string slot's length in bytes (0 when it has none), without decoding it. */
  strLength(slot: number): number {
    const state = this.dv.getUint8(this.at + layout.REC_OFF_STR_STATE + slot);
    if (state !== layout.STR_OK && state !== layout.STR_TRUNCATED) return 0;
    return this.dv.getUint16(this.at + layout.REC_OFF_STR_LEN + 2 * slot, true);
  }

  /** A string slot's text (cut strings as far as they go), or undefined. */
  str(slot: number): string | undefined {
    const cached = this.strings[slot];
    if (cached !== NOT_READ) return cached;
    const state = this.dv.getUint8(this.at + layout.REC_OFF_STR_STATE + slot);
    let text: string | undefined;
    if (state === layout.STR_OK || state === layout.STR_TRUNCATED) {
      const start = this.at + this.dv.getUint16(this.at + layout.REC_OFF_STR_OFF + 2 * slot, true);
      text = decodeText(this.bytes, start, start + this.dv.getUint16(this.at + layout.REC_OFF_STR_LEN + 2 * slot, true));
    }
    this.strings[slot] = text;
    return text;
  }

  private u32(off: number): number {
    return this.dv.getUint32(this.at + off, true);
  }
}

/** Short ASCII strings (names, most paths) without TextDecoder's per-call cost. */
function decodeText(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return utf8.decode(bytes.subarray(start, end));
  let text = "";
  for (let i = start; i < end; i++) {
    if (bytes[i] >= 0x80) return utf8.decode(bytes.subarray(start, end));
    text += String.fromCharCode(bytes[i]);
  }
  return text;
}

/** Calls fn with a view of each record among the first len bytes of bytes, in order. */
export function forEachRecord(bytes: Uint8Array, len: number, clockOffsetNs: bigint, fn: (e: EventView) => void) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, len);
  const view = new EventView(dv, bytes, clockOffsetNs);
  for (let at = 0; at + layout.REC_SIZE <= len; ) {
    view.moveTo(at);
    const size = view.size;
    if (size < layout.REC_SIZE) return; // the decoder has refused such a batch already
    fn(view);
    at += size;
  }
}
