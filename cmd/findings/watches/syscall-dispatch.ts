// syscall_dispatch_changed: the kernel's syscall dispatch differs from what it
// was when the capture started. Two places decide where a syscall goes on
// x86-64: sys_call_table, and since 6.9 (backported to 6.1.85+) the
// x64_sys_call function, a switch of direct jumps that is what really runs;
// a rootkit that patches the switch leaves the table clean, and one that
// writes the table (the classic hook) changes no behaviour there but is still
// a rootkit. So both are compared, byte for byte, with a baseline.
//
// The bytes are read through /proc/kcore, not by a BPF program: it is a plain
// file read (no new program, no verifier, no shim call), it reads exactly the
// bytes asked for, and whatever forbids it (CONFIG_PROC_KCORE=n, lockdown's
// confidentiality mode, no root) forbids bpf_probe_read_kernel of kernel text
// just the same. Addresses come from /proc/kallsyms (root only).
//
// Known limit: ftrace or a kprobe on x64_sys_call itself also changes its
// bytes (its first instruction), and is reported as a change too.
import { existsSync, readFileSync } from "node:fs";
import { SYSCALL_PREFIX } from "../../../catalogue/events";
import type { EventView } from "../event-view";
import type { Finding } from "../finding";
import type { KernelWatch } from "../watch";
import { describeAddress, hex, parseKallsyms, showsAddresses, symbolExtent, type KernelSymbol } from "./kallsyms";
import { readKernel } from "./kcore";
import { ModuleLoads } from "./module-loads";

export const RULE = "syscall_dispatch_changed";
const MAX_TABLE_ENTRIES = 1024;
const MAX_FUNCTION_BYTES = 1 << 16;

/** A direct call or jump (e8/e9 rel32) in the dispatch function to a known handler. */
export interface Jump {
  offset: number;
  target: string; // hex
}

/** A syscall whose handler is no longer the baseline's. */
export interface Change {
  syscall: string; // "getppid", or the old target's symbol when it is no handler
  number?: number;
  from: string; // the old handler's symbol
  to?: bigint; // the new target, when it is still a direct jump or a table entry
  note?: string; // otherwise, what the bytes are now
}

export function tableEntries(bytes: Uint8Array): string[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; at += 8) entries.push(hex(dv.getBigUint64(at, true)));
  return entries;
}

function rel32Target(bytes: Uint8Array, at: number, fnAddr: bigint): bigint {
  const rel = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getInt32(0, true);
  return (fnAddr + BigInt(at + 5) + BigInt(rel)) & 0xffffffffffffffffn;
}

/** The e8/e9 rel32 instructions whose target is a known symbol: a byte pair
 * that only looks like one would have to hit a symbol's exact address. */
export function directJumps(bytes: Uint8Array, fnAddr: bigint, known: Map<string, string>): Jump[] {
  const jumps: Jump[] = [];
  for (let at = 0; at + 5 <= bytes.length; at++) {
    if (bytes[at] !== 0xe8 && bytes[at] !== 0xe9) continue;
    const target = hex(rel32Target(bytes, at, fnAddr));
    if (known.has(target)) jumps.push({ offset: at, target });
  }
  return jumps;
}

const syscallOf = (symbol: string) => (symbol.startsWith(SYSCALL_PREFIX) ? symbol.slice(SYSCALL_PREFIX.length) : symbol);

/** The syscall number whose table entry is this handler, when only one is. */
function numberOf(table: string[], target: string): number | undefined {
  const first = table.indexOf(target);
  return first >= 0 && table.indexOf(target, first + 1) < 0 ? first : undefined;
}

export function tableChanges(base: string[], now: string[], names: Map<string, string>): Change[] {
  const changes: Change[] = [];
  for (let i = 0; i < base.length; i++) {
    if (now[i] === base[i]) continue;
    const from = names.get(base[i]) ?? `0x${base[i]}`;
    changes.push({ syscall: syscallOf(from), number: i, from, to: BigInt(`0x${now[i]}`) });
  }
  return changes;
}

/** What changed in the dispatch function: per baseline jump, its new target;
 * bytes outside any known jump as one change per changed run. */
export function dispatchChanges(base: Uint8Array, now: Uint8Array, fnAddr: bigint, jumps: Jump[], names: Map<string, string>, table: string[]): Change[] {
  const changes: Change[] = [];
  const seen = new Set<Jump>();
  for (let at = 0; at < base.length; at++) {
    if (base[at] === now[at]) continue;
    const jump = jumps.find((j) => at >= j.offset && at < j.offset + 5);
    if (jump) {
      if (seen.has(jump)) continue;
      seen.add(jump);
      const from = names.get(jump.target) ?? `0x${jump.target}`;
      const still = now[jump.offset] === 0xe8 || now[jump.offset] === 0xe9;
      changes.push({
        syscall: syscallOf(from),
        number: numberOf(table, jump.target),
        from,
        ...(still ? { to: rel32Target(now, jump.offset, fnAddr) } : { note: `opcode now 0x${now[jump.offset].toString(16)}` }),
      });
      continue;
    }
    let end = at;
    while (end + 1 < base.length && base[end + 1] !== now[end + 1]) end++;
    changes.push({ syscall: "?", from: `x64_sys_call+0x${at.toString(16)}`, note: `${end - at + 1} byte(s) changed, not a known jump` });
    at = end;
  }
  return changes;
}

function unavailable(why: string): KernelWatch {
  return { rule: RULE, unavailable: why, observe() {}, scan() {} };
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
  // Absent before 6.9 / 6.1.85: there the table is what dispatches.
  const fnSym = symbolExtent(syms, "x64_sys_call");
  const ranges = [{ addr: tableSym.addr, len: Math.min(tableSym.size, MAX_TABLE_ENTRIES * 8) & ~7 }];
  if (fnSym) ranges.push({ addr: fnSym.addr, len: Math.min(fnSym.size, MAX_FUNCTION_BYTES) });

  let base: Uint8Array[];
  try {
    base = readKernel(kcore, ranges);
  } catch (e) {
    return unavailable(`cannot read the syscall table through ${kcore}: ${(e as Error).message}`);
  }
  const table = tableEntries(base[0]);
  // Names for the baseline's targets only: the table's handlers and every
  // __x64_sys_* (the switch's cases).
  const wanted = new Set(table);
  const names = new Map<string, string>();
  for (const s of syms) if (s.module === undefined && (wanted.has(s.addr) || s.name.startsWith(SYSCALL_PREFIX))) names.set(s.addr, s.name);
  const jumps = fnSym ? directJumps(base[1], fnSym.addr, names) : [];
  syms = []; // the full list is read again only when something changed

  const loads = new ModuleLoads();
  const reported = new Set<string>();

  const changesIn = (now: Uint8Array[]) => ({
    sys_call_table: tableChanges(table, tableEntries(now[0]), names),
    x64_sys_call: fnSym ? dispatchChanges(base[1], now[1], fnSym.addr, jumps, names, table) : [],
  });

  return {
    rule: RULE,
    observe: (e: EventView) => loads.observe(e),
    scan(nowNs: bigint, report: (f: Finding) => void) {
      const first = readKernel(kcore, ranges);
      if (first.every((b, i) => Buffer.compare(b, base[i]) === 0)) return;
      // A patch in progress (text_poke's int3 first) must not be reported as
      // the change: only what two reads in a row agree on.
      const second = readKernel(kcore, ranges);
      if (!first.every((b, i) => Buffer.compare(b, second[i]) === 0)) return;
      const found = changesIn(second);
      let current: KernelSymbol[] | undefined;
      for (const [where, changes] of Object.entries(found)) {
        if (!changes.length) continue;
        const key = `${where}\0${changes.map((c) => `${c.from}>${c.to ?? c.note}`).join(",")}`;
        if (reported.has(key)) continue;
        reported.add(key);
        current ??= parseKallsyms(readFileSync(kallsyms, "utf8"));
        const owners = new Set<string>();
        const lines = changes.map((c) => {
          let now = c.note ?? "";
          if (c.to !== undefined) {
            const d = describeAddress(current!, c.to);
            if (d?.module) owners.add(d.module);
            now = `0x${hex(c.to)}${d ? ` ${d.text}` : " (no symbol: a hidden module's?)"}`;
          }
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
