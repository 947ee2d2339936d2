// The shape the inventory watches share (ftrace callbacks, kprobes, BPF
// programs): a list the kernel keeps, read at every scan; each entry worth
// a finding is reported once, saying whether it was there at the first scan
// (in place before the capture, or the scan, began).
import type { EventView } from "../../record/event-view";
import type { Finding } from "../finding";
import { KernelReading, type KernelWatch } from "../watch";

export interface ListWatchSpec<T> {
  rule: string;
  /** The entries now. */
  read(): T[];
  /** What makes an entry the same one at the next scan. */
  key(entry: T): string;
  /** Its finding, or undefined for an entry that is no concern. */
  finding(entry: T, atStart: boolean, nowNs: bigint): Finding | undefined;
  observe?(e: EventView): void;
}

export function listWatch<T>(spec: ListWatchSpec<T>): KernelWatch {
  const reported = new Set<string>();
  let first = true;
  const reading = new KernelReading(() => spec.read());
  return {
    rule: spec.rule,
    observe: (e) => spec.observe?.(e),
    read: () => reading.take(),
    scan(nowNs, report) {
      const atStart = first;
      first = false;
      for (const entry of reading.use()) {
        const key = spec.key(entry);
        if (reported.has(key)) continue;
        const f = spec.finding(entry, atStart, nowNs);
        if (!f) continue;
        reported.add(key);
        report(f);
      }
    },
  };
}
