// A kernel watch: a rule that looks at the kernel's own state while capturing
// (its module list, its syscall dispatch), so it runs live only; a log cannot
// answer it. Watches see every event too, to know what was loaded and when.
import type { EventView } from "../record/event-view";
import type { Finding, Severity } from "./finding";

export interface KernelWatch {
  readonly rule: string;
  /** Every rule whose findings it reports, when more than `rule`: the watch
   * is left out only when all of them are disabled. */
  readonly rules?: string[];
  /** Why this watch cannot run here (no /proc/kcore, say), or undefined when it can. */
  readonly unavailable?: string;
  /** What a watch that runs cannot check here, and why (one of its views missing). */
  readonly partly?: string;
  /** Every event of the capture, in order. */
  observe(e: EventView): void;
  /** Reads the kernel now, for the next scan() to judge. A capture calls it
   * before it reads its rings one last time and then scans: a hook found
   * was made after its module's load was recorded, and a load recorded
   * before this reading is observed before the judging (the reading being
   * taken in scan() itself would let a load land between the rings' last
   * reading and the look). Watches that name no module need none. */
  read?(): void;
  /** Judges the kernel as read() found it (or reads it now, when no read()
   * came first) and reports what it finds. Called every --scan-interval,
   * and soon after a module's init ran. */
  scan(nowNs: bigint, report: (f: Finding) => void): void;
}

/** A watch's reading of the kernel: taken by read(), used by the next scan(),
 * which takes one itself when there is none. */
export class KernelReading<T> {
  private taken?: { value: T };
  constructor(private readonly readNow: () => T) {}
  take(): void {
    // Dropped first: a read that throws must not leave an older reading to be judged.
    this.taken = undefined;
    this.taken = { value: this.readNow() };
  }
  use(): T {
    const taken = this.taken;
    this.taken = undefined;
    return taken ? taken.value : this.readNow();
  }
}

/** A watch runs unless every rule it reports is disabled. */
export const watchDisabled = (w: KernelWatch, disabled: { has(rule: string): boolean }) => (w.rules ?? [w.rule]).every((r) => disabled.has(r));

/** A kernel finding's severity as lists.json (or --findings-config) gives
 * its rule, or its case (details.case: "RULE.CASE"); one found in place when
 * the capture (or scan) began may have its own, "RULE.before_start" (a taint bit set before is weaker evidence
 * than one set while watching: a module may have set it and left). */
export function watchSeverity(severities: Record<string, Severity>, f: Finding): Severity {
  const before = f.details?.inPlaceAtStart === true ? severities[`${f.rule}.before_start`] : undefined;
  // A watch that tells cases apart names its case (bpf_dangerous_helper.signal).
  const own = typeof f.details?.case === "string" ? severities[`${f.rule}.${f.details.case}`] : undefined;
  return before ?? own ?? severities[f.rule] ?? f.severity;
}
