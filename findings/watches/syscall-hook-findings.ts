// The findings of the syscall dispatch watch (syscall-dispatch.ts): a
// syscall that does not reach its own handler, named with where it goes and
// whose code that is (memory before kallsyms), and such a hook gone again.
import type { Finding } from "../finding";
import { describeAddress, hex, type KernelSymbol } from "./kallsyms";
import { codeOwner, ownersNow, ownerWords, type Owners } from "./module-ranges";
import type { ModuleLoads } from "./module-loads";
import { hookedCall, type Hook } from "./syscall-handlers";

export const HOOKED = "syscall_hooked";
export const REMOVED = "syscall_hook_removed";

/** "0xADDR what" of where a syscall now goes; its module joins owners.
 * Memory names the owner first (module-ranges.ts): kallsyms' nearest symbol
 * in module memory no listed module owns is someone else's. */
export function describeTarget(syms: KernelSymbol[], addr: bigint, owners: Set<string>, who: Owners): string {
  const d = describeAddress(syms, addr);
  // A BPF trampoline or program is named by kallsyms only within its first
  // page: past it, the nearest [bpf] symbol is a neighbour, not the owner.
  const bpf = d?.module === "bpf" && d.offset < 0x1000n;
  const owner = bpf ? undefined : codeOwner(addr, who);
  if (owner) {
    if ("module" in owner) owners.add(owner.module);
    return `0x${hex(addr)} ${"module" in owner && owner.by === "listed" && d?.module === owner.module ? d.text : ownerWords(owner)}`;
  }
  if (d?.module) owners.add(d.module);
  return `0x${hex(addr)}${d ? ` ${d.text}` : " (no symbol: a hidden module's?)"}`;
}

/** Scans a patch under way is waited for, at most. */
export const PATCH_WAITS = 3;

/** Is an int3 (0xcc) where the baseline had a call or jump (e8, e9)? */
export function patchUnderWay(base: Uint8Array, now: Uint8Array): boolean {
  for (let i = 0; i < Math.min(base.length, now.length); i++) if (now[i] === 0xcc && (base[i] === 0xe8 || base[i] === 0xe9)) return true;
  return false;
}

export const sameTargets = (a: Hook, b: Hook) => a.actual.length === b.actual.length && a.actual.every((t, i) => t === b.actual[i]);

/** A syscall that does not reach its own handler: where it goes, and whose code that is. */
export function hookFinding(h: Hook, atStart: boolean, nowNs: bigint, syms: KernelSymbol[], loads: ModuleLoads): Finding {
  const owners = new Set<string>();
  const who = ownersNow(loads);
  const targets = h.actual.map((t) => describeTarget(syms, t, owners, who));
  const owner = owners.size === 1 ? [...owners][0] : undefined;
  const seen = owner ? loads.named(owner) : atStart ? undefined : loads.last;
  const goes = targets.length ? `goes to ${targets.join(" or ")}` : "no longer reaches it by a direct jump";
  return {
    rule: HOOKED,
    severity: "critical",
    techniques: ["T1014"],
    description: `${h.where}: ${hookedCall(h)} ${goes}, not its own handler ${h.expected}${atStart ? "; in place when the capture started" : ""}`,
    timestamp: nowNs,
    evidence: seen?.evidence ?? [],
    moduleName: owner ?? seen?.name,
    details: {
      where: h.where,
      syscall: h.syscall,
      number: h.number,
      expected: h.expected,
      actual: targets,
      targetModules: [...owners],
      inPlaceAtStart: atStart,
    },
  };
}

/** A hook found earlier that is gone: the syscall reaches its own handler again. */
export function removalFinding(h: Hook, nowNs: bigint, loads: ModuleLoads): Finding {
  return {
    rule: REMOVED,
    severity: "high",
    techniques: ["T1014"],
    description: `${h.where}: ${hookedCall(h)} reaches ${h.expected} again; the hook found earlier is gone (a rootkit leaving, or covering its tracks)`,
    timestamp: nowNs,
    evidence: loads.last?.evidence ?? [],
    details: { where: h.where, syscall: h.syscall, number: h.number, expected: h.expected },
  };
}
