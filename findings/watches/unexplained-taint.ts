// taint_unexplained (rule 11's second half): the kernel's global taint mask
// (/proc/sys/kernel/tainted) gains a bit that a module load sets, yet no
// module_load this capture saw carries it and no module /proc/modules lists
// shows it (its "(OE)" flags). Taints are sticky, so only bits new since the
// capture started count as high. What sets one unseen is a module that hid
// itself, or one loaded past the tracepoints. A bit already set at the start
// that no listed module carries is reported too (medium): the rootkit came
// first, or a module tainted the kernel and was unloaded since.
import { parseModuleLine } from "./loaded-modules";
import { existsSync, readFileSync } from "node:fs";
import * as layout from "../../record/layout";
import type { EventView } from "../../record/event-view";
import type { Finding } from "../finding";
import { KernelReading, type KernelWatch } from "../watch";
import { MODULE_TAINTS, hasTaint, type ModuleTaint } from "../module-taints";

export const RULE = "taint_unexplained";

const MODULE_MASK = MODULE_TAINTS.reduce((m, t) => m | (1n << BigInt(t.bit)), 0n);

/** The taint bits the modules of a /proc/modules text show, as a mask. */
export function listedTaints(procModules: string): bigint {
  let mask = 0n;
  for (const line of procModules.split("\n")) {
    const flags = parseModuleLine(line)?.taints ?? "";
    for (const t of MODULE_TAINTS) if (flags.includes(t.letter)) mask |= 1n << BigInt(t.bit);
  }
  return mask;
}

/** Module taint bits set in now but not in base, that explained lacks. */
export function unexplainedBits(base: bigint, now: bigint, explained: bigint): ModuleTaint[] {
  const fresh = now & ~base & MODULE_MASK & ~explained;
  return MODULE_TAINTS.filter((t) => hasTaint(fresh, t));
}

export interface TaintOptions {
  tainted?: string;
  procModules?: string;
}

export function unexplainedTaintWatch(opts: TaintOptions = {}): KernelWatch {
  const tainted = opts.tainted ?? "/proc/sys/kernel/tainted";
  const procModules = opts.procModules ?? "/proc/modules";
  if (!existsSync(tainted) || !existsSync(procModules))
    return { rule: RULE, unavailable: `no ${existsSync(tainted) ? procModules : tainted}: this kernel cannot load modules`, observe() {}, scan() {} };
  const read = () => BigInt(readFileSync(tainted, "utf8").trim());
  const base = read();
  let seen = 0n; // taints of the module_loads this capture saw
  const reported = new Set<number>();
  let scanned = false;
  const reading = new KernelReading(read);

  return {
    rule: RULE,
    observe(e: EventView) {
      if (e.id === layout.EVENT_MODULE_LOAD) seen |= e.taints;
    },
    read: () => reading.take(),
    scan(nowNs: bigint, report: (f: Finding) => void) {
      const now = reading.use();
      const first = !scanned;
      scanned = true;
      // Bits already set when the capture started: explained only by a module
      // listed now (taints are sticky, so one unloaded since boot leaves its
      // bit too: medium, not high).
      if (first && base & MODULE_MASK) {
        for (const t of unexplainedBits(0n, base, listedTaints(readFileSync(procModules, "utf8")))) {
          reported.add(t.bit);
          report({
            rule: RULE,
            severity: "medium",
            techniques: ["T1014"],
            description: `the kernel was tainted ${t.letter} (${t.what} module) before the capture started, and no listed module carries it: a module hiding, or one unloaded since it tainted the kernel`,
            timestamp: nowNs,
            evidence: [],
            details: { bit: t.bit, letter: t.letter, tainted: Number(now), atStart: Number(base), inPlaceAtStart: true },
          });
        }
      }
      if (!((now & ~base) & MODULE_MASK)) return;
      for (const t of unexplainedBits(base, now, seen | listedTaints(readFileSync(procModules, "utf8")))) {
        if (reported.has(t.bit)) continue;
        reported.add(t.bit);
        report({
          rule: RULE,
          severity: "high",
          techniques: ["T1014"],
          description: `the kernel became tainted ${t.letter} (${t.what} module) during capture, but no module load seen and no listed module carries it: a module hiding, or loaded unseen`,
          timestamp: nowNs,
          evidence: [],
          details: { bit: t.bit, letter: t.letter, tainted: Number(now), atStart: Number(base), inPlaceAtStart: false },
        });
      }
    },
  };
}
