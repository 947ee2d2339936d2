// `modtrace stats`: a summary of one log or a rotated set.
import { printOut } from "../output/outputs";
import { checkReadable, readLog, unreadable, type Problem } from "../log/reader";
import { OfflineProgress } from "../log/progress";
import { matches, matchesView, reportProblems, type EventFilter } from "../log/filter";
import { EVENTS } from "../catalogue/events";
import { escapeText } from "../output/text-escape";
import { moduleOfFile } from "../findings/rules/common";
import type { LoggedArgument, LoggedEvent } from "../record/generated/event";
import { readFileSync } from "node:fs";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder } from "../decoder/host";
import { EventView, forEachRecord } from "../record/event-view";
import { errnoName } from "../record/errno";
import * as layout from "../record/layout";

export interface StatsOptions {
  files: string[];
  json: boolean;
  filter: EventFilter;
}

type Counts = Record<string, number>;

function bump(c: Counts, key: string) {
  c[key] = (c[key] ?? 0) + 1;
}

function argValue(e: LoggedEvent, name: string): LoggedArgument["value"] | undefined {
  return e.args.find((a) => a?.name === name)?.value;
}

const stringOr = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The module an event is about, as far as the event can tell. */
function moduleOf(e: LoggedEvent): string | undefined {
  if (e.eventName === "delete_module") return stringOr(argValue(e, "name"));
  if (e.eventName === "finit_module") {
    const path = argValue(e, "pathname");
    return typeof path === "string" && path ? moduleOfFile(path) : undefined;
  }
  return undefined;
}

interface ImageSeen {
  sha256: string;
  size: number;
  loads: number; // load calls, failed ones too (a syscall and its module_load count once)
  first: bigint;
  last: bigint;
}

/** Per module name, each distinct image its loads carried. */
class Images {
  private byModule = new Map<string, Map<string, ImageSeen>>();
  private calls = new Set<string>();

  add(e: LoggedEvent, module: string | undefined, t: bigint) {
    if (!e.sha256) return;
    const sha256 = typeof e.sha256 === "string" ? e.sha256 : Buffer.from(e.sha256).toString("hex");
    const name = module ?? "(unknown)";
    // A syscall and the module_load it caused share a callId: one load.
    const call = e.callId === undefined ? undefined : `${e.hostProcessId}:${e.callId}`;
    if (call && this.calls.has(call)) return;
    if (call) this.calls.add(call);
    const images = this.byModule.get(name) ?? new Map<string, ImageSeen>();
    this.byModule.set(name, images);
    const seen = images.get(sha256) ?? { sha256, size: Number(e.size ?? 0), loads: 0, first: t, last: t };
    images.set(sha256, seen);
    seen.loads++;
    if (t < seen.first) seen.first = t;
    if (t > seen.last) seen.last = t;
  }

  summary(iso: (ns: bigint) => string | null) {
    return Object.fromEntries(
      [...this.byModule].sort(([a], [b]) => a.localeCompare(b)).map(([name, images]) => [
        name,
        [...images.values()].map((i) => ({ sha256: i.sha256, size: i.size, loads: i.loads, first: iso(i.first), last: iso(i.last) })),
      ]),
    );
  }
}

/** The calls that hand the kernel a module (init_module, finit_module). */
const LOAD_CALLS = new Set(EVENTS.filter((e) => e.image === "handed" && e.door === "module").map((e) => e.name));
const UNSET_LOGIN = 4294967295;

/** Where a load came from, for the per-container table. */
function containerOf(e: LoggedEvent): string {
  if (e.container) return `${e.container.runtime}:${e.container.id}`;
  if (e.inContainer === true) return "(own pid and mount namespaces, no container cgroup)";
  if (e.inContainer === false) return "(host)";
  return "(not recorded)";
}

function loginOf(e: LoggedEvent): string {
  if (e.loginUserId === undefined || e.loginUserId === null) return "(not recorded)";
  return Number(e.loginUserId) === UNSET_LOGIN ? "(unset)" : String(e.loginUserId);
}

/** The chain as a reader says it: the oldest ancestor first, the caller last. */
function chainOf(e: LoggedEvent): string {
  if (!Array.isArray(e.ancestors)) return "(not recorded)";
  const names = [...e.ancestors].reverse().map((a) => a.processName);
  return (e.ancestryCut ? "…→" : "") + [...names, e.processName].join("→");
}

/** A view of each record the reader lends: one view while the records lie
 * in one buffer (the decoder's memory, where the rebuild leaves each). */
class RecordViews {
  private buffer?: ArrayBufferLike;
  private view?: EventView;

  of(record: Uint8Array): EventView {
    if (record.buffer !== this.buffer || !this.view) {
      this.buffer = record.buffer;
      this.view = new EventView(new DataView(record.buffer), new Uint8Array(record.buffer), 0n);
    }
    this.view.moveTo(record.byteOffset);
    return this.view;
  }
}

/** The events counted from their maps: the load calls (their container,
 * login and ancestry) and those with an image. The rest are counted from
 * their records, rebuilt straight from the log's CBOR (log/reader.ts). */
const FROM_MAPS = new Set(EVENTS.filter((e) => LOAD_CALLS.has(e.name) || e.image !== undefined).map((e) => e.id));

export async function stats(opts: StatsOptions): Promise<number> {
  // A summary of what can be read beats none: the rest is named, and exit 1.
  const bad = unreadable(opts.files);
  if (bad.length === opts.files.length) checkReadable(opts.files);
  const files = opts.files.filter((f) => !bad.some((b) => b.file === f));
  let filesRead = 0;
  const problems: Problem[] = [];
  const byEvent: Counts = {};
  const byProcess: Counts = {};
  const byModule: Counts = {};
  const failures: Counts = {};
  const images = new Images();
  const loadsByContainer: Counts = {};
  const loadsByLogin: Counts = {};
  const loadsByChain: Counts = {};
  const findings: Counts = {};
  let events = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  let lost = 0;
  let filtered = 0;
  let trailers = 0;
  let headers = 0;

  // Each event once, whether it came as its map or as its record.
  const count = (t: bigint, eventName: string, process: string | undefined, module: string | undefined, error: string | undefined) => {
    events++;
    first = first === undefined || t < first ? t : first;
    last = last === undefined || t > last ? t : last;
    bump(byEvent, eventName);
    // A scan event (the kernel's hooks that came and went) is no process's doing.
    if (process !== undefined) bump(byProcess, process);
    if (module) bump(byModule, module);
    if (error !== undefined) bump(failures, `${eventName} ${error}`);
  };
  // Straight from the CBOR into records, but when a filter reads the maps.
  const records = opts.filter.comms.length || opts.filter.container ? undefined : await Decoder.load(readFileSync(wasmPath));
  const views = new RecordViews();
  const progress = OfflineProgress.start("stats", files);
  for (const file of files) {
    let items = 0;
    for (const item of readLog(file, problems, { records, mapsFor: FROM_MAPS })) {
      progress?.item(file, item.offset, item.kind !== "header" && item.kind !== "trailer" && item.kind !== "finding" && item.kind !== "seal", item.kind === "records" ? item.count : 1);
      // Counted only when it held something modtrace wrote (random bytes do not).
      if (items++ === 0) filesRead++;
      if (item.kind === "header") headers++;
      if (item.kind === "trailer") {
        trailers++;
        lost += Number(item.value.lost ?? 0);
        filtered += Number(item.value.filtered ?? 0);
      }
      if (item.kind === "finding") bump(findings, `${item.value.severity} ${item.value.eventName}`);
      // Neither a load call nor an event with an image (FROM_MAPS): a name, a caller, an errno.
      const fromRecord = (v: EventView) => {
        if (!matchesView(v, opts.filter)) return;
        const name = v.eventName;
        count(v.timestamp, name, v.hook === layout.HOOK_SCAN ? undefined : `${v.comm} (pid ${v.hostPid})`, name === "delete_module" ? v.strArg : undefined, v.ret < 0 ? errnoName(v.ret) : undefined);
      };
      if (item.kind === "records") {
        forEachRecord(item.records, item.records.length, 0n, fromRecord);
        continue;
      }
      if (item.kind === "record" && !item.value) {
        fromRecord(views.of(item.record));
        continue;
      }
      if ((item.kind !== "event" && item.kind !== "record") || !item.value || !matches(item.value, opts.filter)) continue;
      const e = item.value;
      const t = BigInt(e.timestamp);
      const module = moduleOf(e);
      count(t, e.eventName, e.hook === "scan" ? undefined : `${e.processName} (pid ${e.hostProcessId})`, module, Number(e.returnValue) < 0 ? String(e.returnError) : undefined);
      images.add(e, e.moduleName ?? (e.eventName === "module_load" ? stringOr(argValue(e, "name")) : module), t);
      if (LOAD_CALLS.has(e.eventName)) {
        bump(loadsByContainer, containerOf(e));
        bump(loadsByLogin, loginOf(e));
        bump(loadsByChain, chainOf(e));
      }
    }
  }
  progress?.end();

  const iso = (ns?: bigint): string | null => (ns === undefined ? null : new Date(Number(ns / 1_000_000n)).toISOString());
  const summary = {
    files: filesRead,
    events,
    first: iso(first),
    last: iso(last),
    seconds: first === undefined || last === undefined ? 0 : Number(last - first) / 1e9,
    byEvent,
    byProcess,
    byModule,
    failures,
    images: images.summary(iso),
    loadsByContainer,
    loadsByLogin,
    loadsByChain,
    findings,
    lost,
    filtered,
    complete: trailers > 0 && problems.length === 0,
    problems: problems.length,
    skipped: problems.some((p) => p.skipped),
    unreadable: bad,
  };
  if (opts.json) printOut(JSON.stringify(summary) + "\n");
  else printOut(render(summary, headers, trailers));
  for (const b of bad) process.stderr.write(`modtrace: ${b.file}: ${b.why}: not read, not in these numbers\n`);
  return Math.max(reportProblems(problems), bad.length ? 1 : 0);
}

function table(title: string, c: Counts): string {
  const rows = Object.entries(c).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (!rows.length) return `${title}: none\n`;
  return `${title}:\n` + rows.map(([k, n]) => `  ${String(n).padStart(9)}  ${escapeText(k)}\n`).join("");
}

function render(s: any, headers: number, trailers: number): string {
  return (
    `${s.events} events in ${s.files} file(s)${s.first && s.last ? `, ${s.first} to ${s.last} (${s.seconds.toFixed(3)} s)` : ""}\n` +
    `lost in the kernel: ${s.lost}; dropped by capture filters: ${s.filtered}` +
    (trailers < headers ? ` (${headers - trailers} capture(s) without a trailer: stopped uncleanly, counts incomplete)` : "") +
    "\n" +
    table("per event", s.byEvent) +
    table("per process", s.byProcess) +
    table("per module", s.byModule) +
    table("failed calls per errno", s.failures) +
    table("load calls (init_module, finit_module) per container", s.loadsByContainer) +
    table("load calls per login uid", s.loadsByLogin) +
    table("load calls per ancestor chain", s.loadsByChain) +
    imageTable(s.images) +
    table("findings the capture made (severity, rule; modtrace findings recomputes them)", s.findings)
  );
}

/** Each module's images; a name loaded from two different images is flagged. */
function imageTable(images: Record<string, { sha256: string; size: number; loads: number; first: string; last: string }[]>): string {
  const names = Object.keys(images);
  if (!names.length) return "module images (sha256): none\n";
  let out = "module images (sha256):\n";
  for (const name of names) {
    const list = images[name];
    out += `  ${escapeText(name)}${list.length > 1 ? `: ${list.length} DIFFERENT IMAGES under one name` : ""}\n`;
    for (const i of list) out += `  ${String(i.loads).padStart(9)}  ${escapeText(i.sha256)}  ${i.size} bytes  ${i.first} to ${i.last}\n`;
  }
  return out;
}
