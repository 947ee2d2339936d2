// syscall_dispatch_changed: the kernel's syscall dispatch differs from what it
// was when the capture started. Two places decide where a syscall goes on
// x86-64: sys_call_table, and since 6.9 (backported to 6.1.85+) the
// x64_sys_call function, a switch of direct jumps that is what really runs;
// a rootkit that patches the switch leaves the table clean, and one that
// writes the table (the classic hook) changes no behaviour there but is still
// a rootkit. So both are compared, byte for byte, with a baseline, and so is
// ia32_sys_call, the switch of the 32-bit entry (int 0x80).
//
// The bytes are read through /proc/kcore, not by a BPF program: it is a plain
// file read (no new program, no verifier, no shim call), it reads exactly the
// bytes asked for, and whatever forbids it (CONFIG_PROC_KCORE=n, lockdown's
// confidentiality mode, no root) forbids bpf_probe_read_kernel of kernel text
// just the same. Addresses come from /proc/kallsyms (root only).
//
// The baseline is only the second opinion: syscall-handlers.ts checks every
// number against the handler the kernel recorded for it at boot, so a hook
// already in place at the start is reported (syscall_hooked), and its later
// removal is a restoration (syscall_hook_removed), not a change. What the
// baseline adds is the rest: bytes of the switch that changed and are no
// jump to a handler, an entry moved to another core handler.
//
// Known limit: ftrace or a kprobe on x64_sys_call itself also changes its
// bytes (its first instruction), and is reported as a change too.
import { existsSync, readFileSync } from "node:fs";
import { SYSCALL_PREFIX } from "../../catalogue/events";
import type { EventView } from "../../record/event-view";
import type { Finding } from "../finding";
import { KernelReading, type KernelWatch } from "../watch";
import { hex, parseKallsyms, showsAddresses, symbolExtent, type KernelSymbol } from "./kallsyms";
import { ownersNow } from "./module-ranges";
import { readKernel } from "./kcore";
import { ModuleLoads } from "./module-loads";
import { coreHandlers, dispatchHooks, ia32Handlers, ia32Hooks, ia32TableHooks, transferTargets, handlersByNumber, hookKey, META_BYTES, metadataSymbols, tableHooks, type Hook } from "./syscall-handlers";
import { directJumps, dispatchChanges, tableChanges, tableEntries, type Change } from "./dispatch-bytes";
import { describeTarget, hookFinding, HOOKED, PATCH_WAITS, patchUnderWay, removalFinding, REMOVED, sameTargets } from "./syscall-hook-findings";

export const RULE = "syscall_dispatch_changed";
const MAX_TABLE_ENTRIES = 1024;
const MAX_FUNCTION_BYTES = 1 << 16;

function unavailable(why: string): KernelWatch {
  return { rule: RULE, rules: [HOOKED, REMOVED, RULE], unavailable: why, observe() {}, scan() {} };
}

export interface SyscallDispatchOptions {
  kcore?: string;
  kallsyms?: string;
}

export function syscallDispatchWatch(opts: SyscallDispatchOptions = {}): KernelWatch {
  const kcore = opts.kcore ?? "/proc/kcore";
  const kallsyms = opts.kallsyms ?? "/proc/kallsyms";
  if (!existsSync(kcore)) return unavailable(`no ${kcore} on this kernel (CONFIG_PROC_KCORE=n): cannot read its syscall dispatch`);
  let syms: KernelSymbol[];
  try {
    syms = parseKallsyms(readFileSync(kallsyms, "utf8"));
  } catch (e) {
    return unavailable(`cannot read ${kallsyms}: ${(e as Error).message}`);
  }
  if (!showsAddresses(syms)) return unavailable(`${kallsyms} shows no addresses: run as root, with kernel.kptr_restrict below 2`);
  const tableSym = symbolExtent(syms, "sys_call_table");
  if (!tableSym) return unavailable(`no sys_call_table in ${kallsyms}`);
  // Absent before 6.9 / 6.1.85: there the table is what dispatches (and
  // ia32_sys_call_table, named by kallsyms with CONFIG_KALLSYMS_ALL, for the
  // 32-bit entry; gone as a symbol where ia32_sys_call came).
  const fnSym = symbolExtent(syms, "x64_sys_call");
  const ia32Sym = symbolExtent(syms, "ia32_sys_call");
  const ia32TableSym = symbolExtent(syms, "ia32_sys_call_table");
  const ranges = [{ addr: tableSym.addr, len: Math.min(tableSym.size, MAX_TABLE_ENTRIES * 8) & ~7 }];
  /** Where each dispatch function's bytes are among the ranges read. */
  const at = { fn: -1, ia32: -1, ia32Table: -1 };
  if (fnSym) at.fn = ranges.push({ addr: fnSym.addr, len: Math.min(fnSym.size, MAX_FUNCTION_BYTES) }) - 1;
  if (ia32Sym) at.ia32 = ranges.push({ addr: ia32Sym.addr, len: Math.min(ia32Sym.size, MAX_FUNCTION_BYTES) }) - 1;
  if (ia32TableSym) at.ia32Table = ranges.push({ addr: ia32TableSym.addr, len: Math.min(ia32TableSym.size, MAX_TABLE_ENTRIES * 8) & ~7 }) - 1;

  let base: Uint8Array[];
  try {
    base = readKernel(kcore, ranges);
  } catch (e) {
    return unavailable(`cannot read the syscall table through ${kcore}: ${(e as Error).message}`);
  }
  const table = tableEntries(base[0]);
  const ia32Table = ia32TableSym ? tableEntries(base[at.ia32Table]) : [];
  // Names for the baseline's targets only: the table's handlers and every
  // __x64_sys_* and __ia32_* (the switches' cases).
  const wanted = new Set([...table, ...ia32Table]);
  const names = new Map<string, string>();
  for (const s of syms) if (s.module === undefined && (wanted.has(s.addr) || s.name.startsWith(SYSCALL_PREFIX) || s.name.startsWith("__ia32_"))) names.set(s.addr, s.name);
  const jumps = fnSym ? directJumps(base[at.fn], fnSym.addr, names) : [];
  const ia32Jumps = ia32Sym ? directJumps(base[at.ia32], ia32Sym.addr, names) : [];

  // The kernel's boot-time record of each number's handler (none without
  // CONFIG_FTRACE_SYSCALLS: then a table entry need only be a core handler).
  const core = coreHandlers(syms);
  const core32 = ia32Handlers(syms);
  const metas = metadataSymbols(syms);
  let byNumber = new Map<number, { name: string; addr: string }>();
  try {
    byNumber = handlersByNumber(metas, readKernel(kcore, metas.map((m) => ({ addr: BigInt(`0x${m.meta.addr}`), len: META_BYTES }))));
  } catch {
    // Left empty: the weaker check still runs.
  }
  // Where a retargeted jump now goes is guessed among the module functions
  // kallsyms lists at the time.
  const moduleFunctions = (list: KernelSymbol[]) => new Set(list.filter((s) => s.module !== undefined).map((s) => s.addr));
  const hooksIn = (now: Uint8Array[], list: KernelSymbol[]): Hook[] => {
    const fns = moduleFunctions(list);
    return [
      ...tableHooks(tableEntries(now[0]), byNumber, core),
      ...(fnSym ? dispatchHooks(now[at.fn], fnSym.addr, byNumber, (a) => fns.has(a)) : []),
      ...(ia32Sym ? ia32Hooks(now[at.ia32], ia32Sym.addr, (a) => fns.has(a)) : []),
      ...(ia32TableSym ? ia32TableHooks(tableEntries(now[at.ia32Table]), core32) : []),
    ];
  };
  const hooksAtStart = hooksIn(base, syms);
  syms = []; // the full list is read again only when something changed

  const loads = new ModuleLoads();
  const reported = new Set<string>();
  /** The hooks found by the last scan, by hookKey. */
  let active = new Map<string, Hook>();
  /** New hooks whose targets kallsyms did not name yet, judged again at the next scan. */
  let deferred = new Map<string, Hook>();
  let last: Uint8Array[] | undefined;
  /** Table entries a hook or its removal explained, by hookKey: what they held then. */
  const settled = new Map<string, string>();
  let waitedForPatch = 0;
  // The first of the two reads a change needs; the second, after the rings were read.
  const reading = new KernelReading(() => readKernel(kcore, ranges));

  const changesIn = (now: Uint8Array[]): Record<string, Change[]> => ({
    sys_call_table: tableChanges(table, tableEntries(now[0]), names),
    x64_sys_call: fnSym ? dispatchChanges(base[at.fn], now[at.fn], fnSym.addr, jumps, names, table) : [],
    ia32_sys_call: ia32Sym ? dispatchChanges(base[at.ia32], now[at.ia32], ia32Sym.addr, ia32Jumps, names, [], "ia32_sys_call") : [],
    ia32_sys_call_table: ia32TableSym ? tableChanges(ia32Table, tableEntries(now[at.ia32Table]), names) : [],
  });

  return {
    rule: RULE,
    rules: [HOOKED, REMOVED, RULE],
    observe: (e: EventView) => loads.observe(e),
    read: () => reading.take(),
    scan(nowNs: bigint, report: (f: Finding) => void) {
      let current: KernelSymbol[] | undefined;
      const symbols = () => (current ??= parseKallsyms(readFileSync(kallsyms, "utf8")));
      if (last === undefined) {
        // The first scan: what was already hooked when the capture started.
        for (const h of hooksAtStart) report(hookFinding(h, true, nowNs, symbols(), loads));
        active = new Map(hooksAtStart.map((h) => [hookKey(h), h]));
        last = base;
      }
      const first = reading.use();
      const unchanged = first.every((b, i) => Buffer.compare(b, last![i]) === 0);
      if (!deferred.size && unchanged) return;
      // A patch in progress (text_poke's int3 first) must not be reported as
      // the change: only what two reads in a row agree on.
      const now = readKernel(kcore, ranges);
      if (!first.every((b, i) => Buffer.compare(b, now[i]) === 0)) return;
      // text_poke_bp holds a patched instruction's first byte as int3 while
      // every CPU syncs (under emulation, long enough for two reads): a call
      // or jump whose opcode is int3 now is a patch under way, judged next
      // scan. Not for ever: a kprobe's int3 stays (and is judged).
      if (!unchanged && [at.fn, at.ia32].some((i) => i >= 0 && patchUnderWay(base[i], now[i])) && waitedForPatch++ < PATCH_WAITS) return;
      waitedForPatch = 0;
      last = now;

      // The absolute check: hooks new since the last scan, and hooks gone.
      const hooks = new Map(hooksIn(now, symbols()).map((h) => [hookKey(h), h]));
      const transfers: Record<string, ReturnType<typeof transferTargets>> = {
        x64_sys_call: fnSym ? transferTargets(now[at.fn], fnSym.addr) : [],
        ia32_sys_call: ia32Sym ? transferTargets(now[at.ia32], ia32Sym.addr) : [],
      };
      const explained = new Set<string>();
      const explainedTargets = new Set<string>();
      const entriesNow: Record<string, string[]> = { sys_call_table: tableEntries(now[0]), ia32_sys_call_table: ia32TableSym ? tableEntries(now[at.ia32Table]) : [] };
      const explain = (key: string, h: Hook) => {
        explained.add(key);
        // A table entry stays explained while it holds what it held then.
        const entry = entriesNow[h.where]?.[h.number];
        if (entry !== undefined) settled.set(key, entry);
        // Where the hooked case goes now: its own handler (the boot record's;
        // for the 32-bit switch, whatever its jump reaches once restored).
        const own =
          h.where === "ia32_sys_call" ? transfers.ia32_sys_call.find((t) => t.offset === h.number)?.target
          : h.where === "ia32_sys_call_table" ? ia32Table[h.number]
          : byNumber.get(h.number)?.addr;
        if (own) explainedTargets.add(own);
        for (const t of h.actual) explainedTargets.add(hex(t));
      };
      const waiting = deferred;
      deferred = new Map();
      for (const [key, found] of hooks) {
        const before = active.get(key);
        // A new hook whose targets kallsyms does not name yet (a scan right
        // after a module's load can come before its symbols are read whole)
        // waits one scan, so that it is reported once, with its targets.
        if (!before && !found.actual.length && !waiting.has(key)) {
          deferred.set(key, found);
          explain(key, found);
          continue;
        }
        // Targets are named from kallsyms, and a read of it while a module
        // unloads can skip other modules' symbols: a known hook whose targets
        // now resolve to nothing is the same hook, still where it was.
        const h = before && !found.actual.length && before.actual.length ? before : found;
        hooks.set(key, h);
        explain(key, h);
        if (before && sameTargets(before, h)) continue;
        report(hookFinding(h, false, nowNs, symbols(), loads));
      }
      for (const [key, h] of active) {
        if (hooks.has(key)) continue;
        explain(key, h);
        report(removalFinding(h, nowNs, loads));
      }
      // One that waited and is gone already: found and gone, both said.
      for (const [key, h] of waiting)
        if (!hooks.has(key)) {
          explain(key, h);
          report(hookFinding(h, false, nowNs, symbols(), loads));
          report(removalFinding(h, nowNs, loads));
        }
      for (const key of deferred.keys()) hooks.delete(key);
      active = hooks;

      // The baseline's second opinion, for what the absolute check does not
      // explain: a run of changed bytes is explained when a jump in it now
      // goes to a hook's target or a restored handler.
      const found = changesIn(now);
      const isExplained = (where: string, c: Change) => {
        if (c.number !== undefined) {
          const key = hookKey({ where, number: c.number });
          return explained.has(key) || (c.to !== undefined && settled.get(key) === hex(c.to));
        }
        // A jump of the 32-bit switch (no numbers) now going where a hook goes.
        if (c.to !== undefined) return explainedTargets.has(hex(c.to));
        const run = c.bytes;
        return !!run && (transfers[where] ?? []).some((t) => t.offset >= run[0] - 5 && t.offset <= run[1] && explainedTargets.has(t.target));
      };
      for (const [where, all] of Object.entries(found)) {
        const changes = all.filter((c) => !isExplained(where, c));
        if (!changes.length) continue;
        const key = `${where}\0${changes.map((c) => `${c.from}>${c.to ?? c.note}`).join(",")}`;
        if (reported.has(key)) continue;
        reported.add(key);
        const owners = new Set<string>();
        const who = ownersNow(loads);
        const lines = changes.map((c) => {
          let now = c.note ?? "";
          if (c.to !== undefined) now = describeTarget(symbols(), c.to, owners, who);
          return `${c.syscall}${c.number !== undefined ? ` (${c.number})` : ""}: ${c.from} -> ${now}`;
        });
        const last = loads.last;
        report({
          rule: RULE,
          severity: "critical",
          techniques: ["T1014"],
          description: `${where} changed since the capture started: ${lines.join("; ")}${last ? `; the last module initialised was ${last.name}` : ""}`,
          timestamp: nowNs,
          evidence: last?.evidence ?? [],
          moduleName: last?.name,
          details: {
            where,
            changes: lines,
            syscalls: changes.map((c) => c.syscall),
            syscallNumbers: Object.fromEntries(changes.filter((c) => c.number !== undefined).map((c) => [c.syscall, c.number!])),
            targetModules: [...owners],
            ...(last ? { lastInitialised: last.name } : {}),
          },
        });
      }
    },
  };
}

