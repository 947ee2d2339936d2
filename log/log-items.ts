// The header and trailer items that frame a CBOR log (RFC 8742 sequence):
// written once per capture, so cbor-x rather than the decoder.
import { Encoder } from "cbor-x/encode";
import { hostname, release } from "node:os";
import { VERSION } from "./version";
import { sealMap, type SealFields } from "./seal";

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
  /** The seal key's fingerprint and --seal-interval, when the log is sealed (log/seal.ts). */
  sealing?: { keyId: string; interval: number };
  /** The modules the kernel listed as the capture began (modtrace scan's
   * inventory, without the file checks), so a log says what it started from. */
  modulesAtStart?: object[];
}

/** Per file of a sealed set: the file before it (its name, part and final
 * chain: the running hash over all its bytes, trailer included), and the
 * parts --rotate-count has deleted, up to and as this one opens. */
export interface FileSealing {
  previous?: { file: string; part: number; chain: string };
  /** Every part of the set deleted so far, as [first, last] ranges. */
  rotatedAway?: [number, number][];
}

/** What every header says first: the format, and which modtrace on which machine wrote it. */
function origin() {
  return { format: LOG_FORMAT, formatVersion: LOG_FORMAT_VERSION, modtraceVersion: VERSION, host: hostname(), kernel: release() };
}

export function headerItem(h: HeaderFields, part: number, file: FileSealing = {}): Uint8Array {
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
    ...(h.sealing && { sealing: { keyId: h.sealing.keyId, interval: h.sealing.interval, ...file } }),
    ...(h.modulesAtStart && { modulesAtStart: h.modulesAtStart }),
  });
}

/** A seal between the events (log/seal.ts): the mac, zeros here, is filled in by SealKey.sign. */
/** What a capture knew of its own completeness at a seal, so that a log cut
 * by SIGKILL still says how complete it was up to its last seal: the events
 * this log was given, the losses so far by cause (the trailer's names), how
 * many times the monitor found itself tampered with, the program runs the
 * kernel skipped and the heartbeat's state. */
export interface Health {
  events: number;
  lost: number;
  lostRingBuffer: number;
  lostPriority: number;
  lostInflight: number;
  filtered: number;
  tampered: number;
  /** Runs of modtrace's programs the kernel skipped (recursion_misses), when it says. */
  hookMisses?: number;
  /** Calls whose kernel-side events lost their callId (the `calls` map was full). */
  callsUntracked?: number;
  /** The heartbeat (findings/heartbeat.ts): rounds judged so far (the one in
   * flight is not), those every hook answered, and the hooks silent then. */
  heartbeatRounds?: number;
  heartbeatAnswered?: number;
  heartbeatSilent?: number;
}

/** A seal item: health (when given) before the seal, whose mac ends the item. */
export function sealItem(seal: SealFields, health?: Health): Uint8Array {
  return cbor.encode({ format: LOG_FORMAT, ...(health && { health }), seal: sealMap(seal) });
}

/** A header or trailer as another log writes it again (read -o cbor): that
 * log is not sealed, so the seal fields of this one do not go with it. */
export function withoutSeal(value: any): any {
  const { sealing: _sealing, seal: _seal, ...rest } = value;
  return rest;
}

/** A log item's seal: a seal item's, or a sealed trailer's. */
export function isSealItem(value: any): boolean {
  return value?.format === LOG_FORMAT && value.trailer !== true && typeof value.formatVersion !== "number" && typeof value.seal === "object" && value.seal !== null;
}

/** The machine a capture ran on, as its header names it. */
export interface Origin {
  host: string;
  kernel: string;
  bootTime: bigint | number;
}

/** The header of a findings log (`findings LOGS -o cbor:FILE`): a log with
 * findings and no events, which read, stats and findings take like any
 * other; `findingsOf` names the logs the findings were made from, and tells
 * `findings` to pass them on rather than judge events anew (there are none).
 * judged: the one machine those logs come from, when they agree on it, so
 * the findings rows say whose findings they are; else the machine judging. */
export function findingsHeaderItem(startNs: bigint, sources: string[], argv: string[], judged?: Origin): Uint8Array {
  return cbor.encode({
    ...origin(),
    ...(judged && { host: judged.host, kernel: judged.kernel, bootTime: judged.bootTime }),
    start: startNs,
    part: 1,
    events: [],
    findingsOf: sources,
    commandLine: argv,
  });
}

/** Closes one file of a rotated set; the set's last file gets trailerItem. */
export function rotationTrailerItem(endNs: bigint, eventsInFile: number, next: string, seal?: SealFields): Uint8Array {
  return cbor.encode({ format: LOG_FORMAT, trailer: true, rotated: true, end: endNs, eventsInFile, next, ...(seal && { seal: sealMap(seal) }) });
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
  /** Calls whose kernel-side events lost their callId (the `calls` map was full). */
  callsUntracked?: number;
  /** Module images: hashed, without a hash (and why), saved (--save-modules). */
  images?: Record<string, number>;
  /** Findings per rule id, when the rules ran. */
  findings?: Record<string, number>;
}

/** With a seal, the trailer is the file's last seal: its mac covers its own bytes. */
export function trailerItem(t: Totals, seal?: SealFields): Uint8Array {
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
    ...(t.callsUntracked !== undefined && { callsUntracked: t.callsUntracked }),
    ...t.images,
    ...(t.findings && { findings: t.findings }),
    ...(seal && { seal: sealMap(seal) }),
  });
}
