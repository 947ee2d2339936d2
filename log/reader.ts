// Reads modtrace CBOR logs item by item, through a window of the file (the
// same memory whatever its size). Damage never stops the reader: a cut-off
// tail is reported with its offset, a corrupt item is reported and reading
// resumes at the next item that decodes as a log item.
import { Decoder as CborDecoder } from "cbor-x/decode";
import { closeSync, fstatSync, openSync, statSync } from "node:fs";
import { CHUNK, LogWindow, MIN_CHUNK } from "./log-window";
import { isSealItem, LOG_FORMAT } from "./log-items";
import * as layout from "../record/layout";
import { Incomplete, itemEnd } from "./item-bounds";
import { decodeItem } from "./item-decoder";
import { BUILT_RECORD, writeRecord } from "../record/records";
import { isFindingItem } from "../findings/format";
import type { LoggedEvent } from "../record/generated/event";
import type { Decoder } from "../decoder/host";

export type LogItem =
  | { kind: "header"; value: any; file: string; offset: number }
  | { kind: "event"; value: LoggedEvent; file: string; offset: number }
  // An event as its kernel record (readLog's records option), for the readers
  // that decode, when the reader built the record from its map (the map too).
  | { kind: "record"; record: Uint8Array; value: LoggedEvent; file: string; offset: number }
  // A run of events rebuilt in one go: their records one after another (the
  // reader's until the next item, too), and where each item began in the
  // file, from offset on.
  | { kind: "records"; records: Uint8Array; count: number; starts: Uint32Array; file: string; offset: number }
  | { kind: "trailer"; value: any; file: string; offset: number }
  | { kind: "finding"; value: any; file: string; offset: number }
  // A seal (log/seal.ts): for `modtrace verify`; every other reader passes it by.
  | { kind: "seal"; value: any; file: string; offset: number };

export interface Problem {
  file: string;
  offset: number;
  message: string;
  skipped: boolean; // false for a warning that lost no data
}

// copyBuffers: byte strings (raw argument bytes) are copies, not views of
// the window, whose bytes the next read moves.
const cbor = new CborDecoder({ mapsAsObjects: true, useRecords: false, copyBuffers: true });

/** One whole item: modtrace's own shapes fast (item-decoder.ts), any other by cbor-x. */
function decode(bytes: Uint8Array): unknown {
  try {
    return decodeItem(bytes);
  } catch {
    // NotHandled, or anything else odd about it: cbor-x decides.
    return cbor.decode(bytes);
  }
}

const scratch = new Uint8Array(layout.RECORD_MAX);
const scratchView = new DataView(scratch.buffer);

/** An event is valid when a record can hold it: corruption that decodes as
 * CBOR (a length that swallows the next item, say) mostly fails that. The
 * record built is kept with the event (BUILT_RECORD) for a reader that
 * decodes it (keep): the others would only make garbage of it. */
function isEvent(value: any, keep: boolean): boolean {
  if (typeof value.eventName !== "string" || !Array.isArray(value.args)) return false;
  try {
    const size = writeRecord(value, scratchView, scratch, 0);
    if (keep) Object.defineProperty(value, BUILT_RECORD, { value: scratch.slice(0, size) });
    return true;
  } catch {
    return false;
  }
}

function classify(value: any, keep: boolean): LogItem["kind"] | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  if (value.format === LOG_FORMAT) return value.trailer === true ? "trailer" : typeof value.formatVersion === "number" ? "header" : isSealItem(value) ? "seal" : undefined;
  if (isFindingItem(value)) return "finding";
  return isEvent(value, keep) ? "event" : undefined;
}

// Events rebuilt in one call of the WebAssembly (readLog's records option).
const RUN = 256;

/** The item at file offset pos, if it is a whole, decodable log item; else
 * whether it is cut short by the end of what can be read. */
function itemAt(w: LogWindow, pos: number): { end: number; value: any; kind: LogItem["kind"] } | { incomplete: boolean } {
  for (;;) {
    try {
      const end = w.base + itemEnd(w.bytes, pos - w.base);
      const value = decode(w.bytes.subarray(pos - w.base, end - w.base));
      const kind = classify(value, w.keepRecords);
      return kind ? { end, value, kind } : { incomplete: false };
    } catch (e) {
      if (!(e instanceof Incomplete)) return { incomplete: false };
      if (!w.more(pos)) return { incomplete: true };
    }
  }
}

// Every item modtrace writes is a map whose first key is "timestamp" (events,
// findings) or "format" (header, trailer, seal): cheap markers to try before a full decode.
const MARKERS = [Buffer.from([0x69, ...Buffer.from("timestamp")]), Buffer.from([0x66, ...Buffer.from("format")])];
const LOOKAHEAD = 2 + Math.max(...MARKERS.map((m) => m.length));

/** Whether the bytes at file offset i start a map whose first key is a marker. */
function startsLikeItem(w: LogWindow, i: number): boolean {
  const bytes = w.bytes;
  const at = i - w.base;
  const head = bytes[at];
  if (!((head >= 0xa1 && head <= 0xb7) || head === 0xb8)) return false;
  const keyAt = at + (head === 0xb8 ? 2 : 1);
  return MARKERS.some((m) => m.every((b, k) => bytes[keyAt + k] === b));
}

/** The file offset of the next whole log item at or after `from`, or -1. */
function nextItem(w: LogWindow, from: number): number {
  for (let i = from; ; i++) {
    // Near the window's end a marker could be cut off by it: read on first.
    while (!w.eof && i + LOOKAHEAD > w.end && w.more(i));
    if (i >= w.end) return -1;
    if (startsLikeItem(w, i) && "kind" in itemAt(w, i)) return i;
  }
}

export class InputError extends Error {}

/** Throws InputError naming every input that cannot be read, so that a
 * command prints nothing (not even a header) before its input is known good. */
export function checkReadable(files: string[]) {
  const bad = unreadable(files).map((u) => `${u.file}: ${u.why}`);
  if (bad.length) throw new InputError(`cannot read ${bad.length === 1 ? "the input" : `${bad.length} inputs`}, so nothing was read: ${bad.join("; ")}`);
}

/** The inputs that cannot be opened, and why. */
export function unreadable(files: string[]): { file: string; why: string }[] {
  const bad: { file: string; why: string }[] = [];
  for (const file of files) {
    try {
      if (statSync(file).isDirectory()) bad.push({ file, why: `is a directory (give the log files in it, e.g. ${file.replace(/\/$/, "")}/*.cbor)` });
      else closeSync(openSync(file, "r"));
    } catch (e: any) {
      bad.push({ file, why: e.code === "ENOENT" ? "no such file" : e.code === "EACCES" ? "permission denied" : e.message });
    }
  }
  return bad;
}

export interface ReadOptions {
  /** How much each read takes (the tests make it small, so items and damage
   * fall across every window boundary). */
  chunkBytes?: number;
  /** Events as records (kind "record"), for a reader that hands them to the
   * decoder (read, findings): true, built from their maps (record/records.ts);
   * a decoder, rebuilt straight from their CBOR by its WebAssembly where it
   * can (decoder/assembly/rebuild.ts: no map is made), from their maps where
   * it cannot. Which items are events, and their records, are the same
   * either way. */
  records?: true | Decoder;
}

export function* readLog(file: string, problems: Problem[], options: ReadOptions = {}): Generator<LogItem> {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e: any) {
    problems.push({ file, offset: 0, message: `cannot read it: ${e.message}`, skipped: true });
    return;
  }
  try {
    // A small log gets a window its size, not CHUNK: a fleet's thousand
    // logs of some 500 KB each made 4 MiB of garbage apiece.
    const w = new LogWindow(fd, undefined, Math.min(options.chunkBytes ?? CHUNK, Math.max(MIN_CHUNK, fstatSync(fd).size + 1)));
    w.keepRecords = options.records !== undefined;
    if (options.records !== true) w.rebuilder = options.records;
    yield* readWindow(w, file, problems);
    w.release();
  } finally {
    closeSync(fd);
  }
}

/** A log already in memory, read as readLog reads a file. */
export function* readLogBytes(bytes: Uint8Array, file: string, problems: Problem[]): Generator<LogItem> {
  yield* readWindow(new LogWindow(undefined, bytes), file, problems);
}

function* readWindow(w: LogWindow, file: string, problems: Problem[]): Generator<LogItem> {
  const problem = (offset: number, message: string, skipped = true) => problems.push({ file, offset, message, skipped });
  let lastKind: LogItem["kind"] | undefined;
  let eventsRead = 0;
  w.more(0);
  if (w.end === 0) {
    problem(0, "empty file: not a modtrace log");
    return;
  }
  let pos = 0;
  while (pos < w.end || w.more(pos)) {
    // The header at 0 goes the usual way: a log that lacks one is told.
    const run = pos > 0 ? w.rebuilder?.rebuildRun(pos - w.base, w.end - pos, RUN) : undefined;
    if (run?.count) {
      eventsRead += run.count;
      yield { kind: "records", records: run.records, count: run.count, starts: run.starts, file, offset: pos };
      lastKind = "event";
      pos += run.length;
      continue;
    }
    const item = itemAt(w, pos);
    if (pos === 0 && (!("kind" in item) || item.kind !== "header")) {
      const next = nextItem(w, 1);
      if (next < 0) {
        problem(0, "not a modtrace log: it does not start with a modtrace header item, and holds no modtrace event");
        return;
      }
      problem(0, `no modtrace header at the start; bytes 0-${next - 1} skipped, reading resumes at offset ${next}`);
      pos = next;
      continue;
    }
    if (!("kind" in item)) {
      const next = nextItem(w, pos + 1);
      if (next < 0) {
        problem(
          pos,
          item.incomplete
            ? `cut short: the last ${w.end - pos} bytes, from offset ${pos}, are an incomplete item (the capture was killed or the disk filled)`
            : `corrupt item at offset ${pos}; nothing readable after it (${w.end - pos} bytes skipped)`,
        );
        return;
      }
      problem(pos, `corrupt item at offset ${pos}; bytes ${pos}-${next - 1} skipped, reading resumes at offset ${next}`);
      pos = next;
      continue;
    }
    if (item.kind === "event") eventsRead++;
    // Damage can also make an event swallow the next one whole, which leaves
    // valid CBOR: only the trailer's count tells.
    const counted = item.kind === "trailer" ? item.value.eventsInFile : undefined;
    if (typeof counted === "number" && counted > eventsRead)
      problem(pos, `the trailer counts ${counted} events in this file but ${eventsRead} were read: ${counted - eventsRead} lost to damage`);
    if (item.kind === "event" && w.keepRecords) yield { kind: "record", record: item.value[BUILT_RECORD], value: item.value, file, offset: pos };
    else yield { kind: item.kind, value: item.value, file, offset: pos } as LogItem;
    lastKind = item.kind;
    pos = item.end;
  }
  if (lastKind !== "trailer")
    problem(w.end, "no trailer: the capture did not stop cleanly (killed, crashed, or still running), so its loss counts are unknown", false);
}
