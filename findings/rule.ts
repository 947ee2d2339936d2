// What a trace rule is: a function of the events it sees, with the data of
// lists.json, reporting findings (findings/rules/ has one per file).
import type { FindingsConfig } from "./config";
import type { EventView } from "../record/event-view";
import type { Evidence, Finding, Severity } from "./finding";

export type Report = (f: Finding) => void;

/** What every rule gets besides the events. */
export interface RuleContext {
  config: FindingsConfig;
  /** The severity of "rule" or of one of its cases, "rule.case". */
  severity(key: string): Severity;
  isModuleTool(exe: string | undefined): boolean;
  /** The event's container, when it comes from one. */
  container(e: EventView): { runtime: string; id: string } | undefined;
}

export interface TraceRule {
  event(e: EventView, report: Report): void;
  /** Time has reached nowNs (undefined: the input has ended): windows that
   * closed report now. */
  close?(nowNs: bigint | undefined, report: Report): void;
}

/** A rule as the engine, --disable-rule, `modtrace rules` and the config
 * template know it before any is made: what it can report and what it reads. */
export interface RuleUnit {
  /** Every id its findings can carry (each can be turned off); its cases,
   * "id.case", are the severities lists.json gives beside them. */
  readonly ids: readonly string[];
  /** The events it judges (layout.EVENT_*): the engine hands it no other. */
  readonly events: readonly number[];
  make(ctx: RuleContext): TraceRule;
}

export function evidence(e: EventView): Evidence {
  return { eventName: e.eventName, timestamp: e.timestamp, ...(e.callId !== undefined && { callId: e.callId }) };
}

export function actor(e: EventView): Finding["actor"] {
  return { hostProcessId: e.hostProcessId, processName: e.processName, executable: e.executablePath, userId: e.userId };
}

