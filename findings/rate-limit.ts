// Findings from one caller, rate-limited: a caller that makes the same kind
// of call a thousand times gets the first few findings written apart and
// the rest folded into one, which says how many it stands for. A flood
// cannot then fill the disk, rotate the real evidence away or bury it in the
// summary. Windows run on the events' clock, so a log replayed folds exactly
// as the capture did.
import type { Evidence, Finding } from "./finding";
import type { Report } from "./rule";

const EVIDENCE_KEPT = 10;

interface Window {
  start: bigint;
  end: bigint;
  written: number;
  folded: number;
  last?: Finding;
  evidence: Evidence[];
}

export class FindingRateLimit {
  private windows = new Map<string, Window>();
  private windowNs: bigint;

  constructor(private perWindow: number, private windowSeconds: number) {
    this.windowNs = BigInt(Math.round(windowSeconds * 1e9));
  }

  /** Reports f, or counts it when its caller (key: rule, uid, privilege) has had its share of this window. */
  admit(f: Finding, key: string, report: Report) {
    let w = this.windows.get(key);
    if (!w) {
      w = { start: f.timestamp, end: f.timestamp + this.windowNs, written: 0, folded: 0, evidence: [] };
      this.windows.set(key, w);
    }
    if (w.written < this.perWindow) {
      w.written++;
      return report(f);
    }
    w.folded++;
    w.last = f;
    for (const e of f.evidence) if (w.evidence.length < EVIDENCE_KEPT) w.evidence.push(e);
  }

  /** Time has reached nowNs (undefined: the input has ended): each closed
   * window's folded findings are reported as one. */
  close(nowNs: bigint | undefined, report: Report) {
    for (const [key, w] of this.windows) {
      if (nowNs !== undefined && nowNs <= w.end) continue;
      this.windows.delete(key);
      if (w.last) report(this.foldedFinding(w, w.last));
    }
  }

  private foldedFinding(w: Window, last: Finding): Finding {
    const seconds = (Number(last.timestamp - w.start) / 1e9).toFixed(3);
    const who = last.actor ? `uid ${last.actor.userId}` : "the same caller";
    return {
      ...last,
      description: `${last.description}; this finding stands for ${w.folded} ${last.rule} findings from ${who} (the last one described), folded by the rate limit after ${w.written} within ${seconds} s (at most ${this.perWindow} per caller per ${this.windowSeconds} s are written apart)`,
      evidence: w.evidence,
      details: { ...last.details, folded: w.folded },
    };
  }
}
