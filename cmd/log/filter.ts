// The selection `read` and `stats` apply to a log's events, and how they
// report what they had to skip.
import type { Problem } from "./reader";

export interface EventFilter {
  events?: Set<string>;
  pids: number[];
  comms: string[];
  sinceNs?: bigint;
  untilNs?: bigint;
}

export function matches(e: any, f: EventFilter): boolean {
  if (f.events && !f.events.has(e.eventName)) return false;
  if (f.pids.length && !f.pids.includes(Number(e.hostProcessId))) return false;
  if (f.comms.length && !f.comms.includes(e.processName)) return false;
  const t = BigInt(e.timestamp);
  if (f.sinceNs !== undefined && t < f.sinceNs) return false;
  if (f.untilNs !== undefined && t > f.untilNs) return false;
  return true;
}

/** Prints each problem on stderr; the exit code says whether anything was skipped. */
export function reportProblems(problems: Problem[]): number {
  for (const p of problems) process.stderr.write(`modtrace: ${p.file}: ${p.skipped ? "" : "warning: "}offset ${p.offset}: ${p.message}\n`);
  const skipped = problems.filter((p) => p.skipped).length;
  if (skipped) process.stderr.write(`modtrace: ${skipped} problem(s): some input was skipped (exit status 1)\n`);
  return skipped ? 1 : 0;
}
