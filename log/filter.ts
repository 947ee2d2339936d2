// The selection `read` and `stats` apply to a log's events, and how they
// report what they had to skip.
import type { Problem } from "./reader";
import { escapeText } from "../output/text-escape";
import type { LoggedEvent } from "../record/generated/event";
import { EventView } from "../record/event-view";
import * as layout from "../record/layout";
import { eachRecord } from "../record/record-batch";

export interface EventFilter {
  events?: Set<string>;
  pids: number[];
  comms: string[];
  sinceNs?: bigint;
  untilNs?: bigint;
  container?: ContainerFilter;
}

/** --container (any container), --container ID (a container id, or its
 * first characters, as docker's short ids), --not-container. */
export type ContainerFilter = { inside: true; id?: string } | { inside: false };

/** The same test as the decoder's (decoder/assembly/index.ts) on an event map:
 * its inContainer verdict, its container id. An event from a log older than
 * the caller context has neither, and is in no container. */
export function inContainerFilter(e: LoggedEvent, f: ContainerFilter): boolean {
  const inside = e.inContainer === true;
  if (!f.inside) return !inside;
  if (!inside) return false;
  return f.id === undefined || (typeof e.container?.id === "string" && e.container.id.startsWith(f.id));
}

export function matches(e: LoggedEvent, f: EventFilter): boolean {
  if (f.events && !f.events.has(e.eventName)) return false;
  // A scan event (a hook that came or went) is no process's doing: a
  // selection of processes leaves it out, as a capture with one does.
  if (e.hook === "scan" && (f.pids.length || f.comms.length || f.container)) return false;
  if (f.pids.length && !f.pids.includes(Number(e.hostProcessId))) return false;
  if (f.comms.length && !f.comms.includes(e.processName)) return false;
  if (f.container && !inContainerFilter(e, f.container)) return false;
  const t = BigInt(e.timestamp);
  if (f.sinceNs !== undefined && t < f.sinceNs) return false;
  if (f.untilNs !== undefined && t > f.untilNs) return false;
  return true;
}

/** The records of a reader's run (kind "records") that pass the filter, as
 * [records, count] for a batch: the run whole when nothing is filtered, else
 * each that matches, from a copy (a flush between its records can move the
 * decoder's memory, where the run lies). A run's records are read back from
 * a log (so the clock is the wall clock), rebuilt straight from their CBOR:
 * their name, hook, pid and timestamp are the maps' exactly
 * (decoder/assembly/rebuild.ts takes no other); the command name and the
 * container filters need the maps. */
export function* matchingRecords(run: Uint8Array, count: number, f: EventFilter): Generator<[Uint8Array, number]> {
  if (unfiltered(f)) {
    yield [run, count];
    return;
  }
  for (const record of eachRecord(run.slice()))
    if (matchesView(new EventView(new DataView(record.buffer, record.byteOffset, record.byteLength), record, 0n), f)) yield [record, 1];
}

/** Whether the filter reads what only an event's map says as it says it (the
 * command name, the container): a reader then needs the maps, and the
 * record tests below cannot judge. */
export function readsMaps(f: EventFilter): boolean {
  return f.comms.length > 0 || f.container !== undefined;
}

/** Whether the filter lets every event through (then a reader need not look at one). */
function unfiltered(f: EventFilter): boolean {
  return !f.events && !f.pids.length && !readsMaps(f) && f.sinceNs === undefined && f.untilNs === undefined;
}

/** matchingRecords' test, on a view of a record (stats counts through one). */
export function matchesView(v: EventView, f: EventFilter): boolean {
  if (readsMaps(f)) throw new Error("matchesView: the command name and container filters read the event's map");
  if (f.events && !f.events.has(v.eventName)) return false;
  if (v.hook === layout.HOOK_SCAN && f.pids.length) return false;
  if (f.pids.length && !f.pids.includes(v.hostProcessId)) return false;
  const t = v.timestamp;
  if (f.sinceNs !== undefined && t < f.sinceNs) return false;
  if (f.untilNs !== undefined && t > f.untilNs) return false;
  return true;
}

/** A finding item passes when one of its evidence events would, as far as
 * the evidence tells (its name and time; the caller it names). A finding
 * with no evidence (a kernel watch's, monitor_tampered) is about the host or
 * the monitor, not about events: only the time filters apply to it, by its
 * own timestamp, and only the caller filters when it names a caller. */
export function findingMatches(f: any, filter: EventFilter): boolean {
  if (filter.container) return false; // a finding records no container of its own
  const named = f.hostProcessId !== undefined;
  if (filter.pids.length && (!named || !filter.pids.includes(Number(f.hostProcessId)))) return false;
  if (filter.comms.length && (!named || !filter.comms.includes(f.processName))) return false;
  const inTime = (t: bigint) => (filter.sinceNs === undefined || t >= filter.sinceNs) && (filter.untilNs === undefined || t <= filter.untilNs);
  if (!Array.isArray(f.evidence) || !f.evidence.length) return inTime(BigInt(f.timestamp));
  return f.evidence.some((e: any) => (!filter.events || filter.events.has(e.eventName)) && inTime(BigInt(e.timestamp)));
}

/** Prints each problem on stderr; the exit code says whether anything was skipped. */
export function reportProblems(problems: Problem[]): number {
  // A message may quote the log's own bytes (an unknown severity, a name).
  for (const p of problems) process.stderr.write(`modtrace: ${p.file}: ${p.skipped ? "" : "warning: "}offset ${p.offset}: ${escapeText(p.message)}\n`);
  const skipped = problems.filter((p) => p.skipped).length;
  if (skipped) process.stderr.write(`modtrace: ${skipped} problem(s): some input was skipped (exit status 1)\n`);
  return skipped ? 1 : 0;
}
