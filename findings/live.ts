// The findings of a live capture: the trace rules, the kernel watches, and
// when to scan. capture.ts calls it once per batch and once per poll.
import type { Decoder } from "../decoder/host";
import type { FindingsConfig } from "./config";
import { FindingsEngine } from "./engine";
import type { Finding, Severity } from "./finding";
import type { KernelWatch } from "./watch";
import type { CaptureClock, Schedule } from "../loader/capture-clock";
import { RULE as MONITOR } from "./monitor-stopped";
import * as hidden from "./watches/hidden-module";
import * as modprobe from "./watches/modprobe-path";
import * as ftrace from "./watches/ftrace-hooks";
import * as dispatch from "./watches/syscall-dispatch";
import { HOOKED, REMOVED } from "./watches/syscall-hook-findings";
import * as taint from "./watches/unexplained-taint";
import * as bpf from "./watches/bpf-programs";
import * as kprobes from "./watches/kprobes";

// Records reach user space within a poll or two (100 ms each); windows are
// closed this long after their end, so a late record still counts in its
// window, as it would when the log is replayed.
const DELIVERY_NS = 2_000_000_000n;

export interface FindingsOptions {
  config: FindingsConfig;
  /** --findings-only: write findings, not the events. */
  only: boolean;
  /** --fail-on: exit 3 when a finding at or above this severity was made. */
  failOn?: Severity;
  /** --scan-interval: seconds between looks at the kernel's own state. */
  scanIntervalSec: number;
}

/** What the watches need to know of the capture. */
export interface CaptureScope {
  /** Every load and unload reaches the watches: no --pid/--uid/--comm or
   * container filter, and module_load and module_free are captured. */
  completeEvents: boolean;
}

/** A kernel watch as --disable-rule, `modtrace rules` and the help know it
 * before any is made: the ids it reports, and how to make it. */
interface WatchUnit {
  ids: readonly string[];
  make(scope: CaptureScope, config: FindingsConfig): KernelWatch;
}

/** The kernel watches (watches/), in the order they scan. The dispatch
 * watch takes its baseline when made: before anything can load during capture. */
const WATCH_UNITS: WatchUnit[] = [
  { ids: [hidden.RULE], make: (scope) => hidden.hiddenModuleWatch({ completeEvents: scope.completeEvents }) },
  { ids: [HOOKED, REMOVED, dispatch.RULE], make: () => dispatch.syscallDispatchWatch() },
  { ids: [taint.RULE], make: () => taint.unexplainedTaintWatch() },
  { ids: [modprobe.RULE], make: (_, config) => modprobe.modprobePathWatch(config) },
  { ids: [ftrace.RULE], make: (_, config) => ftrace.ftraceHooksWatch({ hookedFunctions: config.hookedFunctions }) },
  { ids: [kprobes.RULE], make: (_, config) => kprobes.kprobesWatch(config.hookedFunctions) },
  { ids: [bpf.RULE], make: () => bpf.bpfProgramsWatch() },
];

/** The live-only rules: the monitor's own (monitor_tampered) and the kernel watches'. */
export const WATCH_RULES = [MONITOR, ...WATCH_UNITS.flatMap((u) => u.ids)];

/** The watches not every id of which is disabled, each able to run here or saying why not. */
export function kernelWatches(scope: CaptureScope, config: FindingsConfig): KernelWatch[] {
  const disabled = new Set(config.disabledRules);
  return WATCH_UNITS.filter((u) => !u.ids.every((id) => disabled.has(id))).map((u) => u.make(scope, config));
}

export class LiveFindings {
  readonly engine: FindingsEngine;
  readonly watches: KernelWatch[];
  private readonly scans: Schedule;

  private said = new Set<string>();

  constructor(private opts: FindingsOptions, private clock: CaptureClock, scope: CaptureScope) {
    this.scans = clock.every(opts.scanIntervalSec);
    this.watches = kernelWatches(scope, opts.config);
    this.engine = new FindingsEngine(opts.config, this.watches.filter((w) => !w.unavailable));
  }

  /** What running watches cannot check here (for stderr). */
  partly(): { rule: string; why: string }[] {
    return this.watches.filter((w) => !w.unavailable && w.partly).map((w) => ({ rule: w.rule, why: w.partly! }));
  }

  /** The watches that cannot run, and why (for stderr and the header). */
  unavailable(): { rule: string; why: string }[] {
    // Every rule the watch reports is off with it (syscall_hooked with the dispatch watch).
    return this.watches.filter((w) => w.unavailable).map((w) => ({ rule: (w.rules ?? [w.rule]).join(", "), why: w.unavailable! }));
  }

  /** A decoded batch (span) of the decoder's input. */
  batch(decoder: Decoder, len: number): Finding[] {
    return this.engine.feed(decoder, len, this.clock.offsetNs);
  }

  /** Will the next poll scan the kernel? When it will, the caller has the
   * watches read the kernel (readKernel()), then drains the rings, then
   * polls: a hook a scan finds was made after its module's load was
   * recorded, and the finding must have that load to name it and cite it. */
  scanDue(): boolean {
    return this.engine.loadSinceScan || this.scans.due();
  }

  readKernel(): void {
    this.engine.readKernel();
  }

  /** Every poll: close time windows, and scan the kernel when the caller
   * found it due (scanDue()) before it read the rings: a scan decided after
   * that reading could see a hook whose module's load is still in a ring. */
  poll(scan: boolean): Finding[] {
    const now = this.clock.nowNs();
    if (scan) this.scans.done();
    const found = this.engine.tick(now - DELIVERY_NS, scan ? now : undefined);
    for (const [rule, why] of this.engine.scanErrors) {
      if (this.said.has(`${rule}${why}`)) continue;
      this.said.add(`${rule}${why}`);
      process.stderr.write(`modtrace: finding ${rule}: a scan failed (the next one tries again): ${why}\n`);
    }
    return found;
  }

  end(): Finding[] {
    return [...this.poll(true), ...this.engine.end()];
  }
}
