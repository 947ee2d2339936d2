// Which handler each x86-64 syscall number must reach, and where the dispatch
// reaches something else: a check that needs no baseline, so a hook already in
// place when the capture starts is found as surely as one made during it.
//
// The expected handler comes from the kernel's own record made at boot: with
// CONFIG_FTRACE_SYSCALLS, every SYSCALL_DEFINE has a struct syscall_metadata
// (__syscall_meta__NAME), and init_ftrace_syscalls(), an early initcall, wrote
// each one's syscall_nr from sys_call_table before any module could load.
// A rootkit that wants to hide a table hook from this check must find and
// rewrite that number too.
//
// What this cannot see: a hook outside the dispatch (ftrace, kprobes, inline
// patches inside the handler itself); two syscalls' numbers swapped in the
// metadata as well as in the table; and, without the metadata, a table entry
// pointed at another syscall's handler (then only "a core handler" is checked).
import type { KernelSymbol } from "./kallsyms";
import { hex } from "./kallsyms";

export const HANDLER_PREFIX = "__x64_sys_";
const META_PREFIX = "__syscall_meta__";
/** struct syscall_metadata starts { const char *name; int syscall_nr; ... }. */
export const META_BYTES = 12;
const NR_OFFSET = 8;

export interface Handler {
  name: string; // "__x64_sys_getppid"
  addr: string; // 16 hex digits
}

/** A syscall whose dispatch does not reach its own handler. */
export interface Hook {
  where: "sys_call_table" | "x64_sys_call" | "ia32_sys_call" | "ia32_sys_call_table";
  /** The syscall's number; in ia32_sys_call, whose numbers the kernel keeps
   * no record of, the offset of the jump that goes astray. */
  number: number;
  syscall: string; // "getppid", or "#N" when the kernel keeps no name for N
  expected: string; // the handler it must reach
  actual: bigint[]; // where it goes instead, when that is known
}

/** The core kernel's syscall handlers, by address (aliases: the first name). */
export function coreHandlers(syms: KernelSymbol[]): Map<string, string> {
  const handlers = new Map<string, string>();
  for (const s of syms) if (s.module === undefined && s.name.startsWith(HANDLER_PREFIX) && !handlers.has(s.addr)) handlers.set(s.addr, s.name);
  return handlers;
}

/** The metadata symbols to read (in core kernel data), with the handler each names. */
export function metadataSymbols(syms: KernelSymbol[]): Array<{ meta: KernelSymbol; handler: Handler }> {
  const byName = new Map<string, string>();
  for (const s of syms) if (s.module === undefined && s.name.startsWith(HANDLER_PREFIX)) byName.set(s.name, s.addr);
  const out: Array<{ meta: KernelSymbol; handler: Handler }> = [];
  for (const meta of syms) {
    if (meta.module !== undefined || !meta.name.startsWith(META_PREFIX)) continue;
    const name = HANDLER_PREFIX + meta.name.slice(META_PREFIX.length); // __syscall_meta__getppid -> __x64_sys_getppid
    const addr = byName.get(name);
    if (addr) out.push({ meta, handler: { name, addr } });
  }
  return out;
}

/** Each number's handler, from the metadata's bytes (read in metadataSymbols' order). */
export function handlersByNumber(metas: Array<{ handler: Handler }>, bytes: Uint8Array[]): Map<number, Handler> {
  const byNumber = new Map<number, Handler>();
  metas.forEach(({ handler }, i) => {
    const b = bytes[i];
    const nr = new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(NR_OFFSET, true);
    if (nr >= 0) byNumber.set(nr, handler); // -1: not in the table (a compat-only syscall)
  });
  return byNumber;
}

const syscallName = (handler: string) => handler.slice(HANDLER_PREFIX.length);

/** How many entries the table has: kallsyms gives its extent up to the next
 * symbol, alignment padding included. The highest number the boot record
 * knows ends it; without the record, trailing zero entries are padding. */
export function tableLength(table: string[], byNumber: Map<number, Handler>): number {
  if (byNumber.size) return Math.min(table.length, Math.max(...byNumber.keys()) + 1);
  let n = table.length;
  while (n > 0 && /^0+$/.test(table[n - 1])) n--;
  return n;
}

/** Table entries (hex, as tableEntries gives them) that are not their number's handler. */
export function tableHooks(table: string[], byNumber: Map<number, Handler>, core: Map<string, string>): Hook[] {
  const hooks: Hook[] = [];
  table.slice(0, tableLength(table, byNumber)).forEach((entry, nr) => {
    const own = byNumber.get(nr);
    if (own ? entry === own.addr : core.has(entry)) return;
    hooks.push({
      where: "sys_call_table",
      number: nr,
      syscall: own ? syscallName(own.name) : `#${nr}`,
      expected: own?.name ?? `a ${HANDLER_PREFIX}* handler of the kernel's own`,
      actual: [BigInt(`0x${entry}`)],
    });
  });
  return hooks;
}

/** Where a transfer of len bytes at `at`, ending in a rel32, goes: relative to the next instruction. */
export function rel32Target(bytes: Uint8Array, at: number, len: number, fnAddr: bigint): bigint {
  const rel = new DataView(bytes.buffer, bytes.byteOffset + at + len - 4, 4).getInt32(0, true);
  return (fnAddr + BigInt(at + len) + BigInt(rel)) & 0xffffffffffffffffn;
}

/** Targets of the direct transfers in code: call/jmp rel32 (e8/e9) and jcc rel32 (0f 80-8f). */
export function transferTargets(bytes: Uint8Array, fnAddr: bigint): Array<{ offset: number; target: string }> {
  const out: Array<{ offset: number; target: string }> = [];
  for (let at = 0; at + 5 <= bytes.length; at++) {
    let len = 0;
    if (bytes[at] === 0xe8 || bytes[at] === 0xe9) len = 5;
    else if (bytes[at] === 0x0f && at + 6 <= bytes.length && (bytes[at + 1] & 0xf0) === 0x80) len = 6;
    if (!len) continue;
    out.push({ offset: at, target: hex(rel32Target(bytes, at, len, fnAddr)) });
  }
  return out;
}

/**
 * Handlers the dispatch function no longer transfers to: each was reached
 * by a direct jump of the switch, so a missing one was retargeted. Where it
 * goes now is guessed from transfers to the start of a module's function
 * (isModuleFunction), which a stray byte pair does not hit.
 */
export function dispatchHooks(code: Uint8Array, fnAddr: bigint, byNumber: Map<number, Handler>, isModuleFunction: (addr: string) => boolean): Hook[] {
  const transfers = transferTargets(code, fnAddr);
  const reached = new Set(transfers.map((t) => t.target));
  const elsewhere = [...new Set(transfers.filter((t) => isModuleFunction(t.target)).map((t) => t.target))].map((t) => BigInt(`0x${t}`));
  const hooks: Hook[] = [];
  for (const [nr, own] of [...byNumber].sort((a, b) => a[0] - b[0])) {
    if (own.name === `${HANDLER_PREFIX}ni_syscall` || reached.has(own.addr)) continue;
    hooks.push({ where: "x64_sys_call", number: nr, syscall: syscallName(own.name), expected: own.name, actual: elsewhere });
  }
  return hooks;
}

/**
 * The 32-bit dispatch (ia32_sys_call, int 0x80 and 32-bit processes): the
 * kernel keeps no boot record of its numbers, so which case should reach
 * which handler is unknown; what no kernel does of its own is jump from it
 * into a module's function. Each such jump is a hook, named by its offset.
 */
export function ia32Hooks(code: Uint8Array, fnAddr: bigint, isModuleFunction: (addr: string) => boolean): Hook[] {
  return transferTargets(code, fnAddr)
    .filter((t) => isModuleFunction(t.target))
    .map((t) => ({ where: "ia32_sys_call", number: t.offset, syscall: "a 32-bit syscall", expected: "its __ia32_sys_* handler", actual: [BigInt(`0x${t.target}`)] }));
}

/** The core kernel's 32-bit entry points, by address: what every entry of
 * ia32_sys_call_table must be (__ia32_sys_*, __ia32_compat_sys_*, or the
 * kernel's "no such call"). */
export function ia32Handlers(syms: KernelSymbol[]): Set<string> {
  const handlers = new Set<string>();
  for (const s of syms) if (s.module === undefined && (s.name.startsWith("__ia32_") || s.name === "sys_ni_syscall")) handlers.add(s.addr);
  return handlers;
}

/**
 * The 32-bit table (ia32_sys_call_table): what dispatches int 0x80 and
 * 32-bit processes on kernels before 6.9 (and 6.1.85, which switched to
 * ia32_sys_call, keeping no such symbol). No boot record of its numbers
 * either, so each entry need only be one of the kernel's own 32-bit entry
 * points; anything else is a hook, named by its i386 number.
 */
export function ia32TableHooks(table: string[], handlers: Set<string>): Hook[] {
  return table.slice(0, tableLength(table, new Map())).flatMap((entry, nr) =>
    handlers.has(entry) ? [] : [{ where: "ia32_sys_call_table" as const, number: nr, syscall: `i386 #${nr}`, expected: "an __ia32_sys_* handler of the kernel's own", actual: [BigInt(`0x${entry}`)] }],
  );
}

/** "getppid (110)", or for the 32-bit dispatch where the astray jump is. */
export const hookedCall = (h: Hook) => (h.where === "ia32_sys_call" ? `${h.syscall} (the jump at ia32_sys_call+0x${h.number.toString(16)})` : `${h.syscall} (${h.number})`);

export const hookKey = (h: { where: string; number: number }) => `${h.where}\0${h.number}`;
