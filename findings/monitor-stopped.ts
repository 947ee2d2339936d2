// monitor_tampered, when modtrace itself was stopped: SIGSTOP (or SIGTSTP,
// or a debugger's stop) freezes the reader while the kernel goes on filling
// its rings, and nothing in the kernel's counters says the monitor was not
// looking. A stopped process cannot notice its stop, but it is told when it
// is continued (SIGCONT), and the loop iteration that spanned the stop is
// the long one just before: that gives how long it was blind.
//
// What it cannot see: a stop never continued (then the log simply ends, with
// no trailer), a ptrace stop (no SIGCONT), or a stop shorter than one poll.
import type { Finding } from "./finding";

export const RULE = "monitor_tampered";

// The SIGCONT handler runs when the event loop next turns, which under load
// can be several iterations after the one that spanned the stop: the gaps of
// the last HANDLER_DELAY_MS before it are looked at, not only the last two
// (keeping two lost the stop, and reported 0.1 s, on a loaded machine).
const HANDLER_DELAY_MS = 10_000;

export class StopDetector {
  private continued = false;
  private previous = performance.now();
  /** The iterations that ended in the last HANDLER_DELAY_MS and were longer
   * than every one after them (a sliding window's maximum: the first is the
   * longest), ms. */
  private gaps: { ms: number; end: number }[] = [];

  constructor() {
    process.on("SIGCONT", () => (this.continued = true));
  }

  /** Once per loop iteration: a finding when the process was stopped and
   * continued since the last call. */
  tick(): Finding | undefined {
    const t = performance.now();
    const ms = t - this.previous;
    this.previous = t;
    while (this.gaps.length && this.gaps[this.gaps.length - 1].ms <= ms) this.gaps.pop();
    this.gaps.push({ ms, end: t });
    while (this.gaps[0].end < t - HANDLER_DELAY_MS) this.gaps.shift();
    if (!this.continued) return undefined;
    this.continued = false;
    const seconds = this.gaps[0].ms / 1000;
    // A later stop must not be measured by this one's gap.
    this.gaps = [];
    return {
      rule: RULE,
      severity: "critical",
      techniques: ["T1562.001"],
      description: `modtrace was stopped and continued (SIGSTOP, SIGTSTP or a debugger): it read nothing for about ${seconds.toFixed(1)} s; what the kernel recorded meanwhile waited in the rings, and anything they could not hold is counted lost`,
      timestamp: BigInt(Date.now()) * 1_000_000n,
      evidence: [],
      details: { cause: "stopped", stoppedSeconds: Math.round(seconds * 10) / 10 },
    };
  }
}
