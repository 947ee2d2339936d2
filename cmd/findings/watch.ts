// A kernel watch: a rule that looks at the kernel's own state while capturing
// (its module list, its syscall dispatch), so it runs live only; a log cannot
// answer it. Watches see every event too, to know what was loaded and when.
import type { EventView } from "./event-view";
import type { Finding } from "./finding";

export interface KernelWatch {
  readonly rule: string;
  /** Every rule whose findings it reports, when more than `rule`: the watch
   * is left out only when all of them are disabled. */
  readonly rules?: string[];
  /** Why this watch cannot run here (no /proc/kcore, say), or undefined when it can. */
  readonly unavailable?: string;
  /** Every event of the capture, in order. */
  observe(e: EventView): void;
  /** Looks at the kernel now and reports what it finds. Called every
   * --scan-interval, and soon after a module's init ran. */
  scan(nowNs: bigint, report: (f: Finding) => void): void;
}

/** A watch runs unless every rule it reports is disabled. */
export const watchDisabled = (w: KernelWatch, disabled: { has(rule: string): boolean }) => (w.rules ?? [w.rule]).every((r) => disabled.has(r));
