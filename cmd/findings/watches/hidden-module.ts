// hidden_module: a module the kernel has but one of its own views does not
// show. The kernel keeps every loaded module in two independent places: the
// module list (what /proc/modules and lsmod read) and the module kset
// (/sys/module/NAME, with an initstate file for a loadable module). Rootkits
// unlink themselves from one or both (Diamorphine: the list; Reptile: both),
// so a module in one and not the other, or one the events saw loaded and not
// freed that either lacks, is hiding.
//
// Scanners of this kind raise false alarms on modules caught mid-load or
// mid-unload (Tracee #4021, #3189, #4356): the kernel adds a module to the
// list before its kobject and takes the kobject away first on unload. So
// modules in a transient state are skipped, a disagreement must be seen by
// every scan for two seconds, for the same load of the module, and each
// hidden module is reported once.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { EventView } from "../event-view";
import type { Finding } from "../finding";
import type { KernelWatch } from "../watch";
import { ModuleLoads } from "./module-loads";

export const RULE = "hidden_module";

/** name -> state ("Live", "Loading", "Unloading") of each /proc/modules line. */
export function parseProcModules(text: string): Map<string, string> {
  const list = new Map<string, string>();
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 5) list.set(f[0], f[4]);
  }
  return list;
}

/** name -> initstate ("live", "coming", "going") of each loadable module in
 * the kset. Built-in modules have a directory without initstate: not ours. */
export function readKset(dir: string): Map<string, string> {
  const kset = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return kset;
  }
  for (const name of names) {
    try {
      kset.set(name, readFileSync(join(dir, name, "initstate"), "utf8").trim());
    } catch {
      // built in, or gone since readdir
    }
  }
  return kset;
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
  /** Does the capture see every load and unload (no filter, every module
   * event)? Only then can a module it saw load, and not seen freed, be
   * expected in the views; otherwise only the views are compared. */
  completeEvents?: boolean;
}

export function hiddenModuleWatch(opts: HiddenModuleOptions = {}): KernelWatch {
  const procModules = opts.procModules ?? "/proc/modules";
  const sysModule = opts.sysModule ?? "/sys/module";
  if (!existsSync(procModules))
    return { rule: RULE, unavailable: `no ${procModules}: this kernel cannot load modules (CONFIG_MODULES=n)`, observe() {}, scan() {} };

  const loads = new ModuleLoads();
  // Each disagreement (module, view lacking it, which load of it) and the
  // scan that first saw it.
  let seenSince = new Map<string, bigint>();
  const reported = new Set<string>();

  return {
    rule: RULE,
    observe: (e: EventView) => loads.observe(e),
    scan(nowNs: bigint, report: (f: Finding) => void) {
      const list = parseProcModules(readFileSync(procModules, "utf8"));
      const kset = readKset(sysModule);
      const now = hiddenNow(list, kset, opts.completeEvents === false ? [] : loads.live().map((l) => l.name));
      const seen = new Map<string, bigint>();
      for (const [name, lacking] of now) {
        const load = loads.named(name);
        // A module loaded again under the same name is a new case.
        const key = `${name}\0${lacking}\0${load?.evidence[0]?.timestamp ?? "before"}`;
        const first = seenSince.get(key) ?? nowNs;
        seen.set(key, first);
        if (nowNs - first < CONFIRM_NS || reported.has(key)) continue;
        reported.add(key);
        const shownBy = lacking === "module_list" ? ` (/sys/module/${name} still shows it)` : lacking === "module_kset" ? " (/proc/modules still lists it)" : "";
        report({
          rule: RULE,
          severity: "critical",
          techniques: ["T1014"],
          description: `module ${name} is loaded but hidden from ${WHERE[lacking]}${shownBy}`,
          timestamp: nowNs,
          evidence: load?.evidence ?? [],
          moduleName: name,
          details: {
            lacking,
            loadedInCapture: load !== undefined,
            ...(list.has(name) ? { listState: list.get(name)! } : {}),
            ...(kset.has(name) ? { initstate: kset.get(name)! } : {}),
          },
        });
      }
      seenSince = seen;
    },
  };
}
