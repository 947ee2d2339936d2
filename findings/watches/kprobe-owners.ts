// Who registered each kprobe. The kprobes list in debugfs names the probed
// function, not the owner; the kernel's own table of probes does. Its hash
// chains (kprobe_table in kernel/kprobes.c, found through kallsyms) are
// walked through /proc/kcore, and each probe's handler is named:
// - a module's function: kallsyms names it, or, where the module has left
//   the module list, memory does (module-ranges.ts);
// - the kernel's kprobe events (kprobe_dispatcher): probes made through
//   perf, BPF or tracefs, modtrace's own in kprobe mode among them;
// - another function of the kernel's own.
// Probes on one address hang under one aggregate probe (aggr_pre_handler),
// each on its `list`; a kretprobe's probe runs pre_handler_kretprobe, and its
// owner's code is the kretprobe's `handler`. Member offsets come from the
// running kernel's BTF (the shim, through libbpf), not from a layout written
// down here.
//
// What it cannot see: a probe a rootkit has taken off the table while it
// stays armed, and a handler that only passes control on (the owner named is
// the code the kernel calls first).
import { native, cString } from "../../loader/native";
import { describeAddress, type KernelSymbol } from "./kallsyms";
import { openKernel } from "./kcore";
import { codeOwner, type Owners } from "./module-ranges";

/** Byte offsets the walk needs: in struct kprobe, its chain node, its list
 * of an aggregate's probes, the probed address and the pre-handler; in
 * struct kretprobe, its probe and its return handler. */
export interface KprobeLayout {
  hlist: number;
  list: number;
  addr: number;
  preHandler: number;
  retProbe: number;
  retHandler: number;
}

/** The layout from the running kernel's BTF, or why it cannot be had. */
export function kernelKprobeLayout(): KprobeLayout | string {
  const lib = native();
  const at = (type: string, member: string) => lib.mt_kernel_member_offset(cString(type), cString(member));
  const layout = {
    hlist: at("kprobe", "hlist"),
    list: at("kprobe", "list"),
    addr: at("kprobe", "addr"),
    preHandler: at("kprobe", "pre_handler"),
    retProbe: at("kretprobe", "kp"),
    retHandler: at("kretprobe", "handler"),
  };
  const missing = Object.entries(layout).filter(([, v]) => v < 0);
  return missing.length ? `the kernel's BTF does not give struct kprobe's or kretprobe's ${missing.map(([k]) => k).join(", ")}` : layout;
}

export interface KprobeOwner {
  /** The probed address. */
  addr: bigint;
  kind: "kprobe" | "kretprobe";
  /** The code the kernel runs for the probe's owner. */
  handler: bigint;
  /** A module's name, or "kprobe events", "kernel", "unowned module memory". */
  owner: string;
  /** Where the handler is: "name+0xoff [module]", or words for memory. */
  where: string;
  /** The owner is a module (by kallsyms or by memory). */
  module?: string;
}

const CHAINS = 64; // KPROBE_TABLE_SIZE, 1 << 6 since kprobes began
const MAX_PROBES = 65536; // a bound on the walk: freed memory read mid-change could loop

/** Where core function name starts, under any suffix the compiler gave a
 * static function (aggr_pre_handler.isra.0): found once per walk, so each
 * probe is judged by comparing addresses, not by a search of kallsyms. */
function coreFunction(syms: KernelSymbol[], name: string): Set<bigint> {
  const named = new RegExp(`^${name}(\\.\\w+)*$`);
  return new Set(syms.filter((s) => s.module === undefined && named.test(s.name)).map((s) => BigInt(`0x${s.addr}`)));
}

/** Every registered probe with its owner, read from the kernel's table. */
export function kprobeOwners(kcore: string, syms: KernelSymbol[], layout: KprobeLayout, who: Owners): KprobeOwner[] {
  const table = syms.find((s) => s.name === "kprobe_table" && s.module === undefined);
  if (!table) throw new Error("kallsyms has no kprobe_table (a kernel without CONFIG_KALLSYMS_ALL)");
  const aggregate = coreFunction(syms, "aggr_pre_handler");
  const kretprobe = coreFunction(syms, "pre_handler_kretprobe");
  const kernel = openKernel(kcore);
  try {
    const u64 = (addr: bigint) => new DataView(kernel.read(addr, 8).buffer).getBigUint64(0, true);
    const found: KprobeOwner[] = [];
    let walked = 0;
    const step = () => {
      if (++walked > MAX_PROBES) throw new Error(`more than ${MAX_PROBES} probes: the table changed while it was read`);
    };
    const one = (kp: bigint) => {
      const addr = u64(kp + BigInt(layout.addr));
      const pre = u64(kp + BigInt(layout.preHandler));
      const ret = kretprobe.has(pre);
      const handler = ret ? u64(kp - BigInt(layout.retProbe) + BigInt(layout.retHandler)) : pre;
      found.push({ addr, kind: ret ? "kretprobe" : "kprobe", handler, ...ownerOf(syms, handler, who) });
    };
    for (let i = 0; i < CHAINS; i++) {
      for (let node = u64(BigInt(`0x${table.addr}`) + BigInt(8 * i)); node !== 0n; node = u64(node)) {
        step();
        const kp = node - BigInt(layout.hlist);
        if (!aggregate.has(u64(kp + BigInt(layout.preHandler)))) {
          one(kp);
          continue;
        }
        // An aggregate: its probes are on its list, a circular list_head.
        const head = kp + BigInt(layout.list);
        for (let l = u64(head); l !== head && l !== 0n; l = u64(l)) {
          step();
          one(l - BigInt(layout.list));
        }
      }
    }
    return found;
  } finally {
    kernel.close();
  }
}

function ownerOf(syms: KernelSymbol[], handler: bigint, who: Owners): Pick<KprobeOwner, "owner" | "where" | "module"> {
  const d = describeAddress(syms, handler);
  if (d?.module === "bpf") return { owner: "bpf", where: d.text };
  const memory = codeOwner(handler, who);
  if (memory && "module" in memory) return { owner: memory.module, module: memory.module, where: d?.module === memory.module ? d.text : `0x${handler.toString(16)}` };
  if (memory) return { owner: "unowned module memory", where: `0x${handler.toString(16)} in module memory no listed module owns` };
  if (d?.module) return { owner: d.module, module: d.module, where: d.text };
  if (d && /^k(ret)?probe_dispatcher\b/.test(d.text)) return { owner: "kprobe events", where: d.text };
  return { owner: "kernel", where: d?.text ?? `0x${handler.toString(16)}` };
}
