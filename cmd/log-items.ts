// The header and trailer items that frame a CBOR log (RFC 8742 sequence):
// written once per capture, so cbor-x rather than the decoder.
import { Encoder } from "cbor-x/encode";
import { hostname, release } from "node:os";
import { VERSION } from "./version";

// Plain CBOR maps with text keys: readable by any conforming decoder.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

export const LOG_FORMAT = "modtrace-log";
export const LOG_FORMAT_VERSION = 1;

export interface HeaderFields {
  startNs: bigint;
  bootTimeNs: bigint; // wall-clock time of boot: timestamp minus this is the kernel's boot-time clock
  events: string[]; // the events attached
  hooks: Record<string, string>; // event -> hook it got
  unavailable: Record<string, string>; // event -> why it could not be attached
  fellBack: Record<string, string>; // event -> why the modes tried before its hook failed at capture
  // What streams module images for hashing (and why better hooks failed), or why nothing does.
  imageHook: { hook: string; fellBack?: string } | { why: string };
  filters: { pids: number[]; uids: number[]; comms: string[]; container?: { inside: boolean; id?: string } };
  ancestors: number; // how many ancestors each event records at most (--ancestors)
  argv: string[];
}

/** What every header says first: the format, and which modtrace on which machine wrote it. */
function origin() {
  return { format: LOG_FORMAT, formatVersion: LOG_FORMAT_VERSION, modtraceVersion: VERSION, host: hostname(), kernel: release() };
}

export function headerItem(h: HeaderFields, part: number): Uint8Array {
  return cbor.encode({
    ...origin(),
    bootTime: h.bootTimeNs,
    start: h.startNs,
    part,
    events: h.events,
    hooks: h.hooks,
    unavailable: h.unavailable,
    ...(Object.keys(h.fellBack).length ? { fellBack: h.fellBack } : {}),
    ...("hook" in h.imageHook ? { imageHook: h.imageHook.hook } : { imageHookUnavailable: h.imageHook.why }),
    ...("fellBack" in h.imageHook && h.imageHook.fellBack ? { imageHookFellBack: h.imageHook.fellBack } : {}),
    filters: h.filters,
    ancestors: h.ancestors,
    commandLine: h.argv,
  });
}

/** The header of a findings log (`findings LOGS -o cbor:FILE`): a log with
 * findings and no events, which read, stats and findings take like any
 * other; `findingsOf` names the logs the findings were made from, and tells
 * `findings` to pass them on rather than judge events anew (there are none). */
export function findingsHeaderItem(startNs: bigint, sources: string[], argv: string[]): Uint8Array {
  return cbor.encode({
    ...origin(),
    start: startNs,
    part: 1,
    events: [],
    findingsOf: sources,
    commandLine: argv,
  });
}

/** Closes one file of a rotated set; the set's last file gets trailerItem. */
export function rotationTrailerItem(endNs: bigint, eventsInFile: number, next: string): Uint8Array {
  return cbor.encode({ format: LOG_FORMAT, trailer: true, rotated: true, end: endNs, eventsInFile, next });
}

export interface Totals {
  endNs: bigint;
  eventsInFile: number;
  counts: Record<string, number>;
  written: number;
  lostRingbuf: number;
  lostPriority: number;
  lostInflight: number;
  filtered: number;
  /** Module images: hashed, without a hash (and why), saved (--save-modules). */
  images?: Record<string, number>;
  /** Findings per rule id, when the rules ran. */
  findings?: Record<string, number>;
}

export function trailerItem(t: Totals): Uint8Array {
  return cbor.encode({
    format: LOG_FORMAT,
    trailer: true,
    end: t.endNs,
    counts: t.counts,
    events: t.written,
    eventsInFile: t.eventsInFile,
    lost: t.lostRingbuf + t.lostPriority + t.lostInflight,
    lostRingBuffer: t.lostRingbuf,
    lostPriority: t.lostPriority,
    lostInflight: t.lostInflight,
    filtered: t.filtered,
    ...t.images,
    ...(t.findings && { findings: t.findings }),
  });
}
