// The counts `modtrace stats` makes of logs, file by file.
import { readLog, type Problem, type ReadOptions } from "./reader";
import { matches, matchesView, type EventFilter } from "./filter";
import { EVENTS } from "../catalogue/events";
import { moduleOfFile } from "../findings/rules/common";
import type { LoggedArgument, LoggedEvent } from "../record/generated/event";
import type { Decoder } from "../decoder/host";
import { EventView, forEachRecord } from "../record/event-view";
import { errnoName } from "../record/errno";
import * as layout from "../record/layout";
import type { OfflineProgress } from "./progress";
import { Images, type ImageAdd, type ImagesHalf } from "./tally-images";

export type Counts = Record<string, number>;

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

/** The image event e carries, if any. */
function imageAdd(e: LoggedEvent, module: string | undefined, t: bigint): ImageAdd | undefined {
  if (!e.sha256) return undefined;
  const sha256 = typeof e.sha256 === "string" ? e.sha256 : Buffer.from(e.sha256).toString("hex");
  return { sha256, size: Number(e.size ?? 0), module, call: e.callId === undefined ? undefined : `${e.hostProcessId}:${e.callId}`, t };
}

/** The calls that hand the kernel a module (init_module, finit_module). */
const LOAD_CALLS = new Set(EVENTS.filter((e) => e.image === "handed" && e.door === "module").map((e) => e.name));
const UNSET_LOGIN = 4294967295;
const OWN_NAMESPACES = "(own pid and mount namespaces, no container cgroup)";

/** Where a load came from, for the per-container table. */
function containerOf(e: LoggedEvent): string {
  if (e.container) return `${e.container.runtime}:${e.container.id}`;
  if (e.inContainer === true) return OWN_NAMESPACES;
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

const SYSCALLS = new Set(EVENTS.filter((e) => e.kind === "syscall").map((e) => e.id));
const LOAD_CALL_IDS = new Set(EVENTS.filter((e) => LOAD_CALLS.has(e.name)).map((e) => e.id));

/** What a Tally holds. */
export interface TallyState {
  filesRead: number;
  problems: Problem[];
  counts: Record<CountName, Counts>;
  events: number;
  first?: bigint;
  last?: bigint;
  lost: number;
  filtered: number;
  trailers: number;
  headers: number;
}

/** What a Tally of some files hands the Tally of the files before them. */
export interface TallyHalf {
  state: TallyState;
  images: ImagesHalf;
}

const COUNT_NAMES = ["byEvent", "byProcess", "byModule", "failures", "loadsByContainer", "loadsByLogin", "loadsByChain", "findings"] as const;
export type CountName = (typeof COUNT_NAMES)[number];

export class Tally {
  readonly state: TallyState = {
    filesRead: 0,
    problems: [],
    counts: Object.fromEntries(COUNT_NAMES.map((n) => [n, {}])) as Record<CountName, Counts>,
    events: 0,
    lost: 0,
    filtered: 0,
    trailers: 0,
    headers: 0,
  };
  readonly images = new Images();

  constructor(
    private filter: EventFilter,
    private records: Decoder | undefined,
  ) {}

  /** Its counts, to merge into the Tally of the files before its own. */
  half(): TallyHalf {
    return { state: this.state, images: this.images.half() };
  }

  /** The counts of the files after this Tally's (another thread's), as if it
   * had read them itself: sums, new keys after its own (as they would have
   * come), problems after its own. False, and nothing merged, where that
   * cannot be exact (Images.merge). */
  merge(later: TallyHalf): boolean {
    if (!this.images.merge(later.images)) return false;
    const s = this.state;
    const o = later.state;
    s.filesRead += o.filesRead;
    for (const p of o.problems) s.problems.push(p);
    for (const n of COUNT_NAMES) for (const [k, v] of Object.entries(o.counts[n])) s.counts[n][k] = (s.counts[n][k] ?? 0) + v;
    s.events += o.events;
    if (o.first !== undefined && (s.first === undefined || o.first < s.first)) s.first = o.first;
    if (o.last !== undefined && (s.last === undefined || o.last > s.last)) s.last = o.last;
    s.lost += o.lost;
    s.filtered += o.filtered;
    s.trailers += o.trailers;
    s.headers += o.headers;
    return true;
  }

  /** Each event once, whether it came as its map or as its record. */
  private count(t: bigint, eventName: string, process: string | undefined, module: string | undefined, error: string | undefined) {
    const s = this.state;
    s.events++;
    s.first = s.first === undefined || t < s.first ? t : s.first;
    s.last = s.last === undefined || t > s.last ? t : s.last;
    bump(s.counts.byEvent, eventName);
    // A scan event (the kernel's hooks that came and went) is no process's doing.
    if (process !== undefined) bump(s.counts.byProcess, process);
    if (module) bump(s.counts.byModule, module);
    if (error !== undefined) bump(s.counts.failures, `${eventName} ${error}`);
  }

  /** An event from its record, rebuilt straight from the log's CBOR: the
   * rebuild took it only if the record reads back as its map said
   * (decoder/assembly/rebuild*.ts), so these are the counts of the map. */
  private fromRecord(v: EventView, record: Uint8Array) {
    if (!matchesView(v, this.filter)) return;
    const name = v.eventName;
    const t = v.timestamp;
    const file = name === "finit_module" ? v.file : undefined;
    const module = name === "delete_module" ? v.strArg : file ? moduleOfFile(file) : undefined;
    this.count(t, name, v.hook === layout.HOOK_SCAN ? undefined : `${v.processName} (pid ${v.hostProcessId})`, module, v.returnValue < 0 ? errnoName(v.returnValue) : undefined);
    const sha256 = v.sha256;
    if (sha256 !== undefined) {
      // A syscall's moduleName is the kernel's name for its module; module_load's name argument lies in the same slot.
      const kernelName = SYSCALLS.has(v.id) ? v.moduleName : undefined;
      const call = v.callId === undefined ? undefined : `${v.hostProcessId}:${v.callId}`;
      this.images.add({ sha256, size: Number(v.imageSize), module: kernelName ?? (name === "module_load" ? v.moduleName : module), call, t });
    }
    if (!LOAD_CALL_IDS.has(v.id)) return;
    const s = this.state;
    if (v.context & layout.CONTEXT_ABSENT) {
      for (const c of [s.counts.loadsByContainer, s.counts.loadsByLogin, s.counts.loadsByChain]) bump(c, "(not recorded)");
      return;
    }
    const container = this.records!.containerOf(record);
    bump(s.counts.loadsByContainer, !container ? "(host)" : container.runtime ? `${container.runtime}:${container.id}` : OWN_NAMESPACES);
    bump(s.counts.loadsByLogin, v.loginUserId === UNSET_LOGIN ? "(unset)" : String(v.loginUserId));
    const names: string[] = [];
    for (let i = v.ancestorCount - 1; i >= 0; i--) names.push(v.ancestorComm(i));
    bump(s.counts.loadsByChain, (v.context & layout.CONTEXT_ANCESTRY_CUT ? "…→" : "") + [...names, v.processName].join("→"));
  }

  /** One log's items into the counts. */
  readFile(file: string, progress?: OfflineProgress) {
    const s = this.state;
    const options: ReadOptions = { records: this.records };
    let items = 0;
    for (const item of readLog(file, s.problems, options)) {
      progress?.item(file, item.offset, item.kind === "event" || item.kind === "record" || item.kind === "records", item.kind === "records" ? item.count : 1);
      // Counted only when it held something modtrace wrote (random bytes do not).
      if (items++ === 0) s.filesRead++;
      if (item.kind === "header") s.headers++;
      if (item.kind === "trailer") {
        s.trailers++;
        s.lost += Number(item.value.lost ?? 0);
        s.filtered += Number(item.value.filtered ?? 0);
      }
      if (item.kind === "finding") bump(s.counts.findings, `${item.value.severity} ${item.value.eventName}`);
      if (item.kind === "records") {
        const run = item.records;
        forEachRecord(run, run.length, 0n, (v) => this.fromRecord(v, run.subarray(v.offset, v.offset + v.size)));
        continue;
      }
      if ((item.kind !== "event" && item.kind !== "record") || !matches(item.value, this.filter)) continue;
      const e = item.value;
      const t = BigInt(e.timestamp);
      const module = moduleOf(e);
      this.count(t, e.eventName, e.hook === "scan" ? undefined : `${e.processName} (pid ${e.hostProcessId})`, module, Number(e.returnValue) < 0 ? String(e.returnError) : undefined);
      this.images.add(imageAdd(e, e.moduleName ?? (e.eventName === "module_load" ? stringOr(argValue(e, "name")) : module), t));
      if (LOAD_CALLS.has(e.eventName)) {
        bump(s.counts.loadsByContainer, containerOf(e));
        bump(s.counts.loadsByLogin, loginOf(e));
        bump(s.counts.loadsByChain, chainOf(e));
      }
    }
  }
}

