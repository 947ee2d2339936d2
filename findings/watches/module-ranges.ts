// Whose memory a code address lies in, without trusting kallsyms alone. A
// module that takes itself off the module list also leaves kallsyms (which
// walks that list), and the nearest symbol below its code is then another
// module's or a BPF trampoline's: naming that one would blame the wrong
// code. /proc/modules gives each listed module's base and size; an address
// in the module area that no listed module's memory holds is unowned: a
// hidden module's (or freed memory's). A module this capture saw load is
// known by the code range its module_load read in the kernel, listed or not.
import { readFileSync } from "node:fs";
import { parseModuleLine } from "./loaded-modules";
import type { ModuleLoad, ModuleLoads } from "./module-loads";

export interface ModuleRange {
  name: string;
  start: bigint;
  end: bigint;
}

// x86-64's module mapping space (Documentation/x86/x86_64/mm.rst): modules,
// BPF programs and trampolines are allocated here, core kernel text below.
export const MODULE_AREA = { start: 0xffffffffc0000000n, end: 0xffffffffff000000n };

/** Each listed module's [base, base + size) from a /proc/modules text. On
 * 6.1 its core is one allocation of that size; from 6.4 its parts are
 * allocated apart, so the range is the base's neighbourhood, not exact. */
export function parseModuleRanges(text: string): ModuleRange[] {
  const ranges: ModuleRange[] = [];
  for (const line of text.split("\n")) {
    const m = parseModuleLine(line);
    // No address: kptr_restrict hides it.
    if (m?.address) ranges.push({ name: m.name, start: BigInt(m.address), end: BigInt(m.address) + BigInt(m.size) });
  }
  return ranges;
}

export const inModuleArea = (addr: bigint) => addr >= MODULE_AREA.start && addr < MODULE_AREA.end;

export function rangeOwner(ranges: ModuleRange[], addr: bigint): string | undefined {
  return ranges.find((r) => addr >= r.start && addr < r.end)?.name;
}

/** What memory says of who owns code: the listed modules' ranges, and the
 * modules this capture saw load that the list now lacks. */
export interface Owners {
  ranges: ModuleRange[];
  unlisted: ModuleLoad[];
}

export function ownersNow(loads: ModuleLoads, path = "/proc/modules"): Owners {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {}
  // Names from every line: kptr_restrict may hide the addresses, not the names.
  const listed = new Set(text.split("\n").map((l) => parseModuleLine(l)?.name));
  return { ranges: parseModuleRanges(text), unlisted: loads.live().filter((l) => !listed.has(l.name)) };
}

/** Whose code addr is, by memory, not by symbol:
 * - listed: in a listed module's range (/proc/modules);
 * - seen: in the code range of a module this capture saw load, now unlisted;
 * - only_unlisted: in no range known, where exactly one module seen loading
 *   has left the list and its range was not recorded (an older log);
 * - unowned: module memory no module owns (a hidden module's), with the
 *   unlisted modules it might be.
 * Undefined outside the module area, or where nothing can be told (the
 * addresses of /proc/modules hidden by kptr_restrict, and no range seen). */
export type CodeOwner = { module: string; by: "listed" | "seen" | "only_unlisted" } | { unowned: string[] };

export function codeOwner(addr: bigint, who: Owners): CodeOwner | undefined {
  const listed = rangeOwner(who.ranges, addr);
  if (listed) return { module: listed, by: "listed" };
  const seen = who.unlisted.find((l) => l.code && addr >= l.code.start && addr < l.code.end);
  if (seen) return { module: seen.name, by: "seen" };
  if (!inModuleArea(addr) || !who.ranges.length) return undefined;
  const unknown = who.unlisted.filter((l) => !l.code);
  if (unknown.length === 1 && who.unlisted.length === 1) return { module: unknown[0].name, by: "only_unlisted" };
  return { unowned: unknown.map((l) => l.name) };
}

/** The words for a CodeOwner that is not a listed module. */
export function ownerWords(o: CodeOwner): string {
  if ("unowned" in o) return `in module memory no listed module owns (a module hidden from the module list${o.unowned.length ? `: one of ${o.unowned.join(", ")}` : ""})`;
  if (o.by === "seen") return `in the code of module ${o.module}, which this capture saw load and which has left the module list`;
  if (o.by === "only_unlisted") return `in module memory no listed module owns: ${o.module}'s, which this capture saw load and which has left the module list`;
  return `in the memory of module ${o.module}`;
}
