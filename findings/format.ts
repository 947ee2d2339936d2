// A finding in each output format, and back from a log item. JSON and CBOR
// carry the same map (Tracee's way: eventName is the rule's id); text gets a
// line that stands out among the events.
import { Encoder } from "cbor-x/encode";
import { TECHNIQUES, isSeverity, type Finding } from "./finding";
import { escapeText } from "../output/text-escape";

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

/** The finding as the map JSON and CBOR carry: "timestamp" first, like every
 * event (the log reader resynchronises on it), and "finding": true. */
export function findingMap(f: Finding): Record<string, unknown> {
  return {
    timestamp: f.timestamp,
    eventName: f.rule,
    finding: true,
    severity: f.severity,
    techniques: f.techniques.map((id) => ({ id, name: TECHNIQUES[id] })),
    description: f.description,
    evidence: f.evidence.map((e) => ({ eventName: e.eventName, timestamp: e.timestamp, ...(e.callId !== undefined && { callId: e.callId }) })),
    ...(f.moduleName !== undefined && { moduleName: f.moduleName }),
    ...(f.actor && {
      hostProcessId: f.actor.hostProcessId,
      processName: f.actor.processName,
      executable: { path: f.actor.executable ?? null },
      userId: f.actor.userId,
    }),
    ...(f.details && { details: f.details }),
  };
}

export function findingJson(f: Finding): string {
  // Integers stay integers: nanosecond times and call ids exceed 2^53.
  return JSON.stringify(findingMap(f), (_, v) => (typeof v === "bigint" ? `\u0000${v}` : v)).replace(/"\\u0000(\d+)"/g, "$1") + "\n";
}

export function findingCbor(f: Finding): Uint8Array {
  return cbor.encode(findingMap(f));
}

function clock(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  const micros = String((ns / 1000n) % 1_000_000n).padStart(6, "0");
  return `${d.toISOString().slice(11, 19)}.${micros}`;
}

/** One text line, aligned with the event columns' TIME; bold red on a
 * terminal. Escaped whole: the description holds the caller's names and
 * paths, and a finding read from a log may have been edited anywhere. */
export function findingText(f: Finding, colour = false): string {
  const evidence = f.evidence.map((e) => `${e.eventName}${e.callId !== undefined ? ` callId=${e.callId}` : ` at ${clock(e.timestamp)}`}`);
  const line = escapeText(`${clock(f.timestamp)}  FINDING ${f.severity.toUpperCase()} ${f.rule}: ${f.description} [${f.techniques.join(", ")}] evidence: ${evidence.join("; ")}`);
  return colour ? `\x1b[1;31m${line}\x1b[0m\n` : `${line}\n`;
}

/** The finding in an output format; text in colour when it goes to a terminal. */
export function renderFinding(f: Finding, format: "text" | "json" | "cbor", colour: boolean): Uint8Array {
  if (format === "cbor") return findingCbor(f);
  return Buffer.from(format === "json" ? findingJson(f) : findingText(f, colour));
}

export function isFindingItem(v: any): boolean {
  return v?.finding === true && typeof v.eventName === "string" && typeof v.severity === "string" && Array.isArray(v.evidence);
}

const big = (v: unknown) => (typeof v === "bigint" ? v : BigInt(v as number));

/** A finding read back from a log item (isFindingItem). */
export function findingFromItem(v: any): Finding {
  if (!isSeverity(v.severity)) throw new Error(`finding ${v.eventName} has an unknown severity '${v.severity}'`);
  return {
    rule: v.eventName,
    severity: v.severity,
    techniques: (v.techniques ?? []).map((t: any) => t.id),
    description: String(v.description ?? ""),
    timestamp: big(v.timestamp),
    evidence: v.evidence.map((e: any) => ({ eventName: e.eventName, timestamp: big(e.timestamp), ...(e.callId !== undefined && { callId: big(e.callId) }) })),
    ...(v.moduleName !== undefined && { moduleName: v.moduleName }),
    ...(v.hostProcessId !== undefined && {
      actor: { hostProcessId: v.hostProcessId, processName: v.processName, executable: v.executable?.path ?? undefined, userId: v.userId },
    }),
    ...(v.details && { details: v.details }),
  };
}
