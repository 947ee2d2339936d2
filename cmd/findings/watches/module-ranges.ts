// Whose memory a code address lies in, without trusting kallsyms alone. A
// module that takes itself off the module list also leaves kallsyms (which
// walks that list), and the nearest symbol below its code is then another
// module's or a BPF trampoline's: naming that one would blame the wrong
// code. /proc/modules gives each listed module's base and size; an address
// in the module area that no listed module's memory holds is unowned: a
// hidden module's (or freed memory's).
import { readFileSync } from "node:fs";
import { parseModuleLine } from "./loaded-modules";

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

export function readModuleRanges(path = "/proc/modules"): ModuleRange[] {
  try {
    return parseModuleRanges(readFileSync(path, "utf8"));
  } catch {
    return [];
  }
}

export const inModuleArea = (addr: bigint) => addr >= MODULE_AREA.start && addr < MODULE_AREA.end;

export function rangeOwner(ranges: ModuleRange[], addr: bigint): string | undefined {
  return ranges.find((r) => addr >= r.start && addr < r.end)?.name;
}
