// The baseline's second opinion on the syscall dispatch (syscall-dispatch.ts):
// sys_call_table's entries and the direct jumps of x64_sys_call or
// ia32_sys_call, compared byte for byte with how they were at the start.
import { COMPAT_SYSCALL32_PREFIX, SYSCALL_PREFIX, SYSCALL32_PREFIX } from "../../catalogue/events";
import { hex } from "./kallsyms";
import { rel32Target, transferTargets } from "./syscall-handlers";

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
  bytes?: [number, number]; // for bytes that are no known jump: the changed run's first and last offset
}

export function tableEntries(bytes: Uint8Array): string[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; at += 8) entries.push(hex(dv.getBigUint64(at, true)));
  return entries;
}

/** The e8/e9 rel32 instructions whose target is a known symbol: a byte pair
 * that only looks like one would have to hit a symbol's exact address. */
export function directJumps(bytes: Uint8Array, fnAddr: bigint, known: Map<string, string>): Jump[] {
  return transferTargets(bytes, fnAddr)
    .filter((t) => (bytes[t.offset] === 0xe8 || bytes[t.offset] === 0xe9) && known.has(t.target));
}

const syscallOf = (symbol: string) => symbol.replace(new RegExp(`^(${SYSCALL_PREFIX}|${SYSCALL32_PREFIX}|${COMPAT_SYSCALL32_PREFIX})`), "");

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
export function dispatchChanges(base: Uint8Array, now: Uint8Array, fnAddr: bigint, jumps: Jump[], names: Map<string, string>, table: string[], fnName = "x64_sys_call"): Change[] {
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
        ...(still ? { to: rel32Target(now, jump.offset, 5, fnAddr) } : { note: `opcode now 0x${now[jump.offset].toString(16)}` }),
      });
      continue;
    }
    let end = at;
    while (end + 1 < base.length && base[end + 1] !== now[end + 1]) end++;
    changes.push({ syscall: "?", from: `${fnName}+0x${at.toString(16)}`, note: `${end - at + 1} byte(s) changed, not a known jump`, bytes: [at, end] });
    at = end;
  }
  return changes;
}
