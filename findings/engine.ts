// Runs the findings rules over the records of a capture or of logs. The
// trace rules (rules/) see only events, so a log replayed through them gives
// exactly the findings the capture gave live; the kernel watches (watches/)
// also look at the running kernel, so they run live only.
import type { Decoder } from "../decoder/host";
import type { FindingsConfig } from "./config";
import { forEachRecord } from "../record/event-view";
import * as layout from "../record/layout";
import { atOrAbove, type Finding, type Severity } from "./finding";
import { watchDisabled, watchSeverity, type KernelWatch } from "./watch";
import type { Report, RuleContext, TraceRule } from "./rule";
import { TRACE_RULES } from "./rules/index";
import type { EventView } from "../record/event-view";
import { capForPrivilege } from "./privilege";
import { FindingRateLimit } from "./rate-limit";
import { failedUnprivileged } from "./rules/common";

/** Every finding id there is, for --disable-rule's check. */
export function ruleIds(watches: readonly string[] = []): string[] {
  return [...TRACE_RULES.flatMap((u) => u.ids), ...watches];
}

// Findings kept for the summary at stop (the outputs have every one).
const KEPT = 1000;

export class FindingsEngine {
  private rules: TraceRule[];
  /** The rules by the events they judge (their units' events). */
  private byEvent = new Map<number, TraceRule[]>();
  private disabled: Set<string>;
  private limit: FindingRateLimit;
  /** The event the rules are judging, for what they report of it (reportEvent). */
  private current?: EventView;
  private decoder?: Decoder;
  private pending: Finding[] = [];
  /** A module loaded or ran its init since the watches last scanned: they
   * should look again now rather than at the next interval. */
  loadSinceScan = false;
  /** readKernel() came since the last scan: the scan judges its reading. */
  private kernelRead = false;
  /** The last error of each watch's scan, for the capture to say once. */
  readonly scanErrors = new Map<string, string>();
  /** Findings so far, per id and per severity. */
  readonly counts = new Map<string, number>();
  private bySeverity = new Map<Severity, number>();
  /** The first KEPT findings, for the summary. */
  readonly all: Finding[] = [];

  constructor(private config: FindingsConfig, private watches: KernelWatch[] = []) {
    this.disabled = new Set(config.disabledRules);
    const tools = new Set(config.moduleTools);
    const ctx: RuleContext = {
      config,
      severity: (key) => config.severity[key] ?? config.severity[key.split(".")[0]] ?? "info",
      isModuleTool: (exe) => exe !== undefined && tools.has(exe),
      container: (e) => this.decoder?.recordContainer(e.offset),
    };
    const units = TRACE_RULES.filter((u) => u.ids.some((id) => !this.disabled.has(id)));
    this.rules = units.map((u) => {
      const rule = u.make(ctx);
      for (const id of u.events) this.byEvent.set(id, [...(this.byEvent.get(id) ?? []), rule]);
      return rule;
    });
    this.watches = watches.filter((w) => !watchDisabled(w, this.disabled));
    this.limit = new FindingRateLimit(config.rateLimit.findingsPerCaller, config.rateLimit.windowSeconds);
  }

  /** What a rule reports of the event it is judging: its severity capped by
   * the caller's privilege, then through the caller's rate limit (a caller:
   * one uid, privileged or not, so an unprivileged flood under root's uid
   * folds nothing of root's). */
  private reportEvent: Report = (f) => {
    const e = this.current!;
    const unprivileged = failedUnprivileged(e);
    this.limit.admit(capForPrivilege(f, e), `${f.rule} ${e.userId} ${unprivileged}`, this.report);
  };

  private report: Report = (f) => {
    if (this.disabled.has(f.rule)) return;
    this.pending.push(f);
    if (this.all.length < KEPT) this.all.push(f);
    this.counts.set(f.rule, (this.counts.get(f.rule) ?? 0) + 1);
    this.bySeverity.set(f.severity, (this.bySeverity.get(f.severity) ?? 0) + 1);
  };

  /** The records among the first len bytes of the decoder's input (a span),
   * whose timestamps are boot time plus clockOffsetNs; returns the findings
   * they gave. */
  feed(decoder: Decoder, len: number, clockOffsetNs: bigint): Finding[] {
    this.decoder = decoder;
    const closing = this.rules.filter((r) => r.close);
    forEachRecord(decoder.inputView(len), len, clockOffsetNs, (e) => {
      const now = e.timestamp;
      for (const r of closing) r.close!(now, this.report);
      this.limit.close(now, this.report);
      this.current = e;
      for (const r of this.byEvent.get(e.id) ?? []) r.event(e, this.reportEvent);
      for (const w of this.watches) w.observe(e);
      if (e.id === layout.EVENT_MODULE_LOAD || e.id === layout.EVENT_DO_INIT_MODULE) this.loadSinceScan = true;
    });
    return this.take();
  }

  /** Live, before the rings are read for a scan: each watch reads the kernel
   * now, and the scan (tick) judges that reading once the loads made before
   * it are observed. A load observed after this reading asks for another scan. */
  readKernel(): void {
    this.loadSinceScan = false;
    this.kernelRead = true;
    this.eachWatch((w) => w.read?.());
  }

  /** Live: no event older than closeNs (wall ns) can still arrive, so the
   * windows before it close; with scanNs, the watches look at the kernel. */
  tick(closeNs: bigint, scanNs?: bigint): Finding[] {
    for (const r of this.rules) r.close?.(closeNs, this.report);
    this.limit.close(closeNs, this.report);
    if (scanNs !== undefined) {
      if (!this.kernelRead) this.loadSinceScan = false;
      this.kernelRead = false;
      this.eachWatch((w) => w.scan(scanNs, this.reportWatch));
    }
    return this.take();
  }

  /** call on every watch: a kernel view that cannot be read now (a race with
   * an unload, a permission) must not stop the capture, and the next scan
   * tries again. */
  private eachWatch(call: (w: KernelWatch) => void) {
    for (const w of this.watches) {
      try {
        call(w);
      } catch (e) {
        this.scanErrors.set(w.rule, (e as Error).message);
      }
    }
  }

  /** A watch's finding, at the severity lists.json (or --findings-config) gives its rule. */
  private reportWatch: Report = (f) => this.report({ ...f, severity: watchSeverity(this.config.severity, f) });

  /** A finding about the monitor itself (monitor_tampered): counted and
   * returned like the others. */
  monitor(f: Finding): Finding[] {
    this.reportWatch(f);
    return this.take();
  }

  /** The input has ended: open windows report. */
  end(): Finding[] {
    for (const r of this.rules) r.close?.(undefined, this.report);
    this.limit.close(undefined, this.report);
    return this.take();
  }

  /** Findings at or above a severity so far. */
  atLeast(s: Severity): number {
    return [...this.bySeverity].filter(([k]) => atOrAbove(k, s)).reduce((n, [, c]) => n + c, 0);
  }

  /** How many findings were made in all. */
  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  private take(): Finding[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}
