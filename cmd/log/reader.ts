// Reads modtrace CBOR logs item by item. Damage never stops the reader: a
// cut-off tail is reported with its offset, a corrupt item is reported and
// reading resumes at the next item that decodes as a log item.
import { Decoder } from "cbor-x/decode";
import { closeSync, openSync, readFileSync, statSync } from "node:fs";
import { isSealItem, LOG_FORMAT } from "../log-items";
import * as layout from "../../decoder/assembly/generated/layout";
import { Incomplete, itemEnd } from "./item-bounds";
import { writeRecord } from "./records";
import { isFindingItem } from "../findings/format";

export type LogItem =
  | { kind: "header"; value: any; file: string; offset: number }
  | { kind: "event"; value: any; file: string; offset: number }
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

const cbor = new Decoder({ mapsAsObjects: true, useRecords: false });

const scratch = new Uint8Array(layout.RECORD_MAX);
const scratchView = new DataView(scratch.buffer);

/** An event is valid when a record can hold it: corruption that decodes as
 * CBOR (a length that swallows the next item, say) mostly fails that. */
function isEvent(value: any): boolean {
  if (typeof value.eventName !== "string" || !Array.isArray(value.args)) return false;
  try {
    writeRecord(value, scratchView, scratch, 0);
    return true;
  } catch {
    return false;
  }
}

function classify(value: any): LogItem["kind"] | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  if (value.format === LOG_FORMAT) return value.trailer === true ? "trailer" : typeof value.formatVersion === "number" ? "header" : isSealItem(value) ? "seal" : undefined;
  if (isFindingItem(value)) return "finding";
  return isEvent(value) ? "event" : undefined;
}

/** The item at pos, if it is a whole, decodable log item. */
function itemAt(bytes: Uint8Array, pos: number): { end: number; value: any; kind: LogItem["kind"] } | undefined {
  try {
    const end = itemEnd(bytes, pos);
    const value = cbor.decode(bytes.subarray(pos, end));
    const kind = classify(value);
    return kind ? { end, value, kind } : undefined;
  } catch {
    return undefined;
  }
}

// Every item modtrace writes is a map whose first key is "timestamp" (events,
// findings) or "format" (header, trailer, seal): cheap markers to try before a full decode.
const MARKERS = [Buffer.from([0x69, ...Buffer.from("timestamp")]), Buffer.from([0x66, ...Buffer.from("format")])];

function nextItem(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i++) {
    const head = bytes[i];
    const mapHead = (head >= 0xa1 && head <= 0xb7) || head === 0xb8;
    if (!mapHead) continue;
    const keyAt = i + (head === 0xb8 ? 2 : 1);
    if (!MARKERS.some((m) => m.every((b, k) => bytes[keyAt + k] === b))) continue;
    if (itemAt(bytes, i)) return i;
  }
  return -1;
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

export function* readLog(file: string, problems: Problem[]): Generator<LogItem> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e: any) {
    problems.push({ file, offset: 0, message: `cannot read it: ${e.message}`, skipped: true });
    return;
  }
  yield* readLogBytes(bytes, file, problems);
}

export function* readLogBytes(bytes: Uint8Array, file: string, problems: Problem[]): Generator<LogItem> {
  const problem = (offset: number, message: string, skipped = true) => problems.push({ file, offset, message, skipped });
  let lastKind: LogItem["kind"] | undefined;
  let eventsRead = 0;
  if (bytes.length === 0) {
    problem(0, "empty file: not a modtrace log");
    return;
  }
  let pos = 0;
  while (pos < bytes.length) {
    const item = itemAt(bytes, pos);
    if (pos === 0 && item?.kind !== "header") {
      const next = nextItem(bytes, 1);
      if (next < 0) {
        problem(0, "not a modtrace log: it does not start with a modtrace header item, and holds no modtrace event");
        return;
      }
      problem(0, `no modtrace header at the start; bytes 0-${next - 1} skipped, reading resumes at offset ${next}`);
      pos = next;
      continue;
    }
    if (!item) {
      const next = nextItem(bytes, pos + 1);
      let cut = false;
      try {
        itemEnd(bytes, pos);
      } catch (e) {
        cut = e instanceof Incomplete;
      }
      if (next < 0) {
        problem(
          pos,
          cut
            ? `cut short: the last ${bytes.length - pos} bytes, from offset ${pos}, are an incomplete item (the capture was killed or the disk filled)`
            : `corrupt item at offset ${pos}; nothing readable after it (${bytes.length - pos} bytes skipped)`,
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
    yield { kind: item.kind, value: item.value, file, offset: pos } as LogItem;
    lastKind = item.kind;
    pos = item.end;
  }
  if (lastKind !== "trailer")
    problem(bytes.length, "no trailer: the capture did not stop cleanly (killed, crashed, or still running), so its loss counts are unknown", false);
}
