// hidden_module: a module the kernel has but one of its own views does not
// show. The kernel keeps every loaded module in two independent places: the
// module list (what /proc/modules and lsmod read) and the module kset
// (/sys/module/NAME, with an initstate file for a loadable module). Rootkits
// unlink themselves from one or both (Diamorphine: the list; Reptile: both),
// so a module in one and not the other, or one the events saw loaded and not
// freed that either lacks, is hiding. A module gone from both before the
// capture began is found by its memory, the third view (module-memory.ts).
// One name listed twice is a module that renamed itself to pass as another
// (the kernel refuses a second load of one name).
//
// Scanners of this kind raise false alarms on modules caught mid-load or
// mid-unload (Tracee #4021, #3189, #4356): the kernel adds a module to the
// list before its kobject and takes the kobject away first on unload. So
// modules in a transient state are skipped, a disagreement must be seen by
// two scans at least two seconds apart, for the same load of the module, and
// each hidden module is reported once. A module that hides and shows itself
// in turn does not start its two seconds again: the first sighting counts,
// and how often it came back is said.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import type { EventView } from "../../record/event-view";
import type { Finding } from "../finding";
import type { KernelWatch } from "../watch";
import { parseModuleLine } from "./loaded-modules";
import { moduleMemoryUnavailable, readModuleAreas, unaccountedAreas, type ModuleArea } from "./module-memory";
import { ModuleLoads } from "./module-loads";

export const RULE = "hidden_module";

/** The module list as /proc/modules gives it: state ("Live", "Loading",
 * "Unloading") and core size by name, and the names listed more than once. */
export function parseProcModules(text: string): { states: Map<string, string>; sizes: Map<string, number>; twice: Map<string, number> } {
  const states = new Map<string, string>();
  const sizes = new Map<string, number>();
  const twice = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = parseModuleLine(line);
    if (!m) continue;
    if (states.has(m.name)) twice.set(m.name, (twice.get(m.name) ?? 1) + 1);
    states.set(m.name, m.state);
    sizes.set(m.name, m.size);
  }
  return { states, sizes, twice };
}

/** name -> initstate ("live", "coming", "going") of each loadable module in
 * the kset, and its core size (coresize). Built-in modules have a directory
 * without initstate: not ours. */
export function readKset(dir: string): { states: Map<string, string>; sizes: Map<string, number> } {
  const states = new Map<string, string>();
  const sizes = new Map<string, number>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { states, sizes };
  }
  for (const name of names) {
    try {
      states.set(name, readFileSync(join(dir, name, "initstate"), "utf8").trim());
      sizes.set(name, Number(readFileSync(join(dir, name, "coresize"), "utf8")));
    } catch {
      // built in, or gone since readdir
    }
  }
  return { states, sizes };
}

export type Lacking = "module_list" | "module_kset" | "both";

/** Which view lacks each module that looks hidden right now. `expected`: the
 * modules the events saw loaded, initialised and not freed. */
export function hiddenNow(list: Map<string, string>, kset: Map<string, string>, expected: Iterable<string>): Map<string, Lacking> {
  const hidden = new Map<string, Lacking>();
  const settled = (name: string) => (list.get(name) ?? "Live") === "Live" && (kset.get(name) ?? "live") === "live";
  for (const name of expected) {
    const inList = list.has(name), inKset = kset.has(name);
    if (inList && inKset) continue;
    if (settled(name)) hidden.set(name, inList ? "module_kset" : inKset ? "module_list" : "both");
  }
  for (const [name, state] of kset) if (state === "live" && !list.has(name)) hidden.set(name, "module_list");
  for (const [name, state] of list) if (state === "Live" && !kset.has(name)) hidden.set(name, "module_kset");
  return hidden;
}

// A disagreement counts once scans have seen it for this long: an unload
// takes a module out of both views before its events reach user space (under
// a flood, hundreds of ms later), so the events may still call it live.
const CONFIRM_NS = 2_000_000_000n;

const WHERE: Record<Lacking, string> = {
  module_list: "the module list (/proc/modules, lsmod)",
  module_kset: "the module kset (/sys/module)",
  both: "both the module list (/proc/modules) and the module kset (/sys/module)",
};

export interface HiddenModuleOptions {
  procModules?: string;
  sysModule?: string;
  vmallocinfo?: string;
  /** The kernel release (the memory view's way of counting depends on it). */
  kernelRelease?: string;
  /** Does the capture see every load and unload (no filter, every module
   * event)? Only then can a module it saw load, and not seen freed, be
   * expected in the views; otherwise only the views are compared. */
  completeEvents?: boolean;
}

/** A disagreement seen by scans: when first, by how many scans, how often it came back. */
interface Sighting {
  first: bigint;
  scans: number;
  lastScan: number;
  returns: number;
}

export function hiddenModuleWatch(opts: HiddenModuleOptions = {}): KernelWatch {
  const procModules = opts.procModules ?? "/proc/modules";
  const sysModule = opts.sysModule ?? "/sys/module";
  const vmallocinfo = opts.vmallocinfo ?? "/proc/vmallocinfo";
  if (!existsSync(procModules))
    return { rule: RULE, unavailable: `no ${procModules}: this kernel cannot load modules (CONFIG_MODULES=n)`, observe() {}, scan() {} };
  const memoryWhyNot = moduleMemoryUnavailable(vmallocinfo, opts.kernelRelease ?? release());

  const loads = new ModuleLoads();
  // Each disagreement (module, view lacking it, which load of it; or an
  // area of module memory) and how scans saw it. Kept when it goes away:
  // hiding and showing in turn does not start the confirmation again.
  const sightings = new Map<string, Sighting>();
  const reported = new Set<string>();
  let scans = 0;

  /** The case `key` was seen by this scan: is it confirmed and new? */
  const confirmed = (key: string, nowNs: bigint): Sighting | undefined => {
    let s = sightings.get(key);
    if (!s) sightings.set(key, (s = { first: nowNs, scans: 0, lastScan: -1, returns: 0 }));
    else if (s.lastScan < scans - 1) s.returns++;
    if (s.lastScan !== scans) {
      s.scans++;
      s.lastScan = scans;
    }
    if (s.scans < 2 || nowNs - s.first < CONFIRM_NS || reported.has(key)) return undefined;
    reported.add(key);
    return s;
  };

  return {
    rule: RULE,
    ...(memoryWhyNot ? { partly: `the module list and /sys/module compared, not module memory: ${memoryWhyNot}` } : {}),
    observe: (e: EventView) => loads.observe(e),
    scan(nowNs: bigint, report: (f: Finding) => void) {
      scans++;
      const list = parseProcModules(readFileSync(procModules, "utf8"));
      const kset = readKset(sysModule);
      const now = hiddenNow(list.states, kset.states, opts.completeEvents === false ? [] : loads.live().map((l) => l.name));
      for (const [name, lacking] of now) {
        const load = loads.named(name);
        // A module loaded again under the same name is a new case.
        const seen = confirmed(`${name}\0${lacking}\0${load?.evidence[0]?.timestamp ?? "before"}`, nowNs);
        if (!seen) continue;
        const shownBy = lacking === "module_list" ? ` (/sys/module/${name} still shows it)` : lacking === "module_kset" ? " (/proc/modules still lists it)" : "";
        report({
          rule: RULE,
          severity: "critical",
          techniques: ["T1014"],
          description: `module ${name} is loaded but hidden from ${WHERE[lacking]}${shownBy}${seen.returns ? `; it showed itself again ${seen.returns} time(s) in between` : ""}`,
          timestamp: nowNs,
          evidence: load?.evidence ?? [],
          moduleName: name,
          details: {
            lacking,
            loadedInCapture: load !== undefined,
            ...(list.states.has(name) ? { listState: list.states.get(name)! } : {}),
            ...(kset.states.has(name) ? { initstate: kset.states.get(name)! } : {}),
            ...(seen.returns ? { returns: seen.returns } : {}),
          },
        });
      }
      for (const [name, times] of list.twice) {
        if (!confirmed(`${name}\0twice\0${times}`, nowNs)) continue;
        report({
          rule: RULE,
          severity: "critical",
          techniques: ["T1014", "T1036.005"],
          description: `the module list names ${name} ${times} times: the kernel refuses a second module of one name, so one of them renamed itself after loading to pass as the other`,
          timestamp: nowNs,
          evidence: [],
          moduleName: name,
          details: { lacking: "own_name", listedTimes: times },
        });
      }
      if (memoryWhyNot === undefined) scanMemory(nowNs, list, kset, now, report);
    },
  };

  /** The third view: module memory no module of either view accounts for. */
  function scanMemory(nowNs: bigint, list: ReturnType<typeof parseProcModules>, kset: ReturnType<typeof readKset>, now: Map<string, Lacking>, report: (f: Finding) => void) {
    // Unlike a module's name, an area of one size is no lasting identity:
    // another load's init area (freed once its init ran) could look like an
    // earlier one come back. Memory must stay unaccounted, scan after scan.
    const forgetOthers = (keep: number) => {
      for (const [key, s] of sightings) if (key.startsWith("memory\0") && s.lastScan !== keep) sightings.delete(key);
    };
    // A module mid-load or mid-unload has an init area, or none yet: wait, and start again after.
    if ([...list.states.values()].some((s) => s !== "Live") || [...kset.states.values()].some((s) => s !== "live")) return forgetOthers(-1);
    const sizes = new Map([...kset.sizes, ...list.sizes]);
    let left = unaccountedAreas(readModuleAreas(vmallocinfo), [...sizes.values()]);
    // Modules the events saw load that are in neither view: named already.
    left = left.slice([...now.values()].filter((l) => l === "both").length);
    const counts = new Map<string, number>();
    for (const area of left) {
      // Hashed addresses: areas of one size are told apart by their order.
      const nth = (counts.get(String(area.size)) ?? 0) + 1;
      counts.set(String(area.size), nth);
      if (!confirmed(`memory\0${area.size}\0${area.start ?? nth}`, nowNs)) continue;
      report(memoryFinding(area, nowNs));
    }
    forgetOthers(scans);
  }
}

function memoryFinding(area: ModuleArea, nowNs: bigint): Finding {
  const at = area.start === undefined ? "" : ` at 0x${area.start.toString(16)}`;
  const bytes = area.pageBytes ?? area.size;
  return {
    rule: RULE,
    severity: "critical",
    techniques: ["T1014"],
    description: `${bytes} bytes of module memory${at}, allocated by the module loader (${area.caller}), belong to no module in the module list (/proc/modules) or the module kset (/sys/module): a module hidden from both`,
    timestamp: nowNs,
    evidence: [],
    details: { lacking: "both", view: "module_memory", areaBytes: bytes, ...(area.start !== undefined ? { areaStart: `0x${area.start.toString(16)}` } : {}), allocator: area.caller },
  };
}
