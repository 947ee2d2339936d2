// /proc/kallsyms, for the addresses and sizes of kernel symbols and the
// owner of an address. On x86-64 every address is 16 hex digits, so the
// text compares in address order and most lines need no BigInt.
export interface KernelSymbol {
  addr: string; // 16 lower-case hex digits
  name: string;
  module?: string;
}

export function parseKallsyms(text: string): KernelSymbol[] {
  const syms: KernelSymbol[] = [];
  for (const line of text.split("\n")) {
    // "ffffffff81000000 T _text" or "ffffffffc0a01000 t fn\t[mod]"
    const sp1 = line.indexOf(" ");
    const sp2 = line.indexOf(" ", sp1 + 1);
    if (sp1 !== 16 || sp2 < 0) continue;
    const tab = line.indexOf("\t", sp2 + 1);
    const name = tab < 0 ? line.slice(sp2 + 1) : line.slice(sp2 + 1, tab);
    const module = tab < 0 ? undefined : line.slice(tab + 1).replace(/^\[|\]$/g, "");
    syms.push({ addr: line.slice(0, 16), name, module });
  }
  return syms;
}

/** True when kallsyms shows real addresses (root, and kptr_restrict allows). */
export function showsAddresses(syms: KernelSymbol[]): boolean {
  return syms.some((s) => s.addr !== "0000000000000000");
}

export const hex = (a: bigint) => a.toString(16).padStart(16, "0");

/** A core-kernel symbol's address and size: up to the next symbol above it. */
export function symbolExtent(syms: KernelSymbol[], name: string): { addr: bigint; size: number } | undefined {
  const own = syms.find((s) => s.name === name && s.module === undefined);
  if (!own) return undefined;
  let next: string | undefined;
  for (const s of syms) if (s.module === undefined && s.addr > own.addr && (next === undefined || s.addr < next)) next = s.addr;
  if (next === undefined) return undefined;
  return { addr: BigInt(`0x${own.addr}`), size: Number(BigInt(`0x${next}`) - BigInt(`0x${own.addr}`)) };
}

/** "name+0xoff [module]" of the symbol an address falls in, or undefined. */
export function describeAddress(syms: KernelSymbol[], addr: bigint): { text: string; module?: string; offset: bigint } | undefined {
  const want = hex(addr);
  let best: KernelSymbol | undefined;
  for (const s of syms) if (s.addr <= want && (best === undefined || s.addr > best.addr)) best = s;
  if (!best || best.addr === "0000000000000000") return undefined;
  const off = addr - BigInt(`0x${best.addr}`);
  // Far past the nearest symbol is not inside it (the gap after a module's end).
  if (off > 0x100000n) return undefined;
  return { text: `${best.name}${off ? `+0x${off.toString(16)}` : ""}${best.module ? ` [${best.module}]` : ""}`, module: best.module, offset: off };
}
