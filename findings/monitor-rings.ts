// monitor_tampered, when another process moved a ring's consumer position:
// the consumer page of a BPF ring is writable by every holder of the map,
// and root can get the map by its id, so records can be skipped unread (or
// read by someone else) without the kernel counting anything lost. The
// reader keeps its own copy of the position (loader/ring.c); a position
// found elsewhere is what this reports, once per change, with the bytes.
//
// What it cannot see: a move made and put back between two reads, or a
// process that reads the records without moving the position (a copy is
// not a theft: the reader still gets them).
import type { RingMoved } from "../loader/session";
import type { Finding } from "./finding";
import { RULE } from "./monitor-stopped";

export class RingMoveDetector {
  private seen = new Map<string, RingMoved>();

  constructor(private read: () => RingMoved[]) {}

  /** Once per loop iteration: a finding per ring moved since the last call. */
  tick(): Finding[] {
    const found: Finding[] = [];
    for (const now of this.read()) {
      const before = this.seen.get(now.ring) ?? { ring: now.ring, bytes: 0, moves: 0 };
      this.seen.set(now.ring, now);
      if (now.moves === before.moves) continue;
      const bytes = now.bytes - before.bytes;
      found.push({
        rule: RULE,
        severity: "critical",
        techniques: ["T1562.001"],
        description: `another process moved the ${now.ring} ring's read position by ${bytes} bytes: the records there were skipped unread (or read by someone else), and the kernel counted none of them lost`,
        timestamp: BigInt(Date.now()) * 1_000_000n,
        evidence: [],
        details: { cause: "ring", ring: now.ring, bytes, moves: now.moves - before.moves },
      });
    }
    return found;
  }
}
