// A finding: a verdict on module activity, written into the same stream as
// the events (findings/format.ts) with the events that are its evidence.
export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Is s at or above min (--fail-on's test)? */
export function atOrAbove(s: Severity, min: Severity): boolean {
  return severityRank(s) >= severityRank(min);
}

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** MITRE ATT&CK techniques the rules name. */
export const TECHNIQUES = {
  "T1547.006": "Boot or Logon Autostart Execution: Kernel Modules and Extensions",
  T1014: "Rootkit",
  T1068: "Exploitation for Privilege Escalation",
  "T1562.001": "Impair Defenses: Disable or Modify Tools",
  T1542: "Pre-OS Boot",
  "T1036.005": "Masquerading: Match Legitimate Resource Name or Location",
  T1611: "Escape to Host",
} as const;
export type TechniqueId = keyof typeof TECHNIQUES;

/** One event a finding rests on: enough to find it in the log. */
export interface Evidence {
  eventName: string;
  timestamp: bigint; // wall clock, ns, as the event's own timestamp
  callId?: bigint;
}

/** Who made the call a finding is about, when one process did. */
export interface Actor {
  hostProcessId: number;
  processName: string;
  executable?: string;
  userId: number;
}

export interface Finding {
  rule: string; // the rule's id: the finding's eventName
  severity: Severity;
  techniques: TechniqueId[];
  description: string; // one line
  timestamp: bigint; // wall clock, ns: the last evidence's, or when a scan saw it
  evidence: Evidence[];
  moduleName?: string;
  actor?: Actor;
  /** Rule-specific facts (counts, paths, syscalls), plain JSON values. */
  details?: Record<string, string | number | boolean | string[] | Record<string, number> | Record<string, string | number>[]>;
}
