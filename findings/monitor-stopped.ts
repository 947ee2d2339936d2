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

export class StopDetector {
  private continued = false;
  private previous = performance.now();
  private gaps = [0, 0]; // the last two iterations' lengths, ms

  constructor() {
    process.on("SIGCONT", () => (this.continued = true));
  }

  /** Once per loop iteration: a finding when the process was stopped and
   * continued since the last call. */
  tick(): Finding | undefined {
    const t = performance.now();
    this.gaps = [this.gaps[1], t - this.previous];
    this.previous = t;
    if (!this.continued) return undefined;
    this.continued = false;
    const seconds = Math.max(...this.gaps) / 1000;
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
