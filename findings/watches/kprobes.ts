// kprobe_on_sensitive: a kprobe (or kretprobe) on a function rootkits hook to
// hide or to spy: a syscall handler, directory iteration, the /proc and
// socket listings. A module's kprobe runs its own handler before the
// function and can change its arguments or, with a kretprobe, what it
// returns, and neither the syscall dispatch nor ftrace's list shows it (the
// callback behind an ftrace-based kprobe is the kernel's own
// kprobe_ftrace_handler). The kernel lists every registered kprobe in
// debugfs (kprobes/list):
//   ffffffffa1b2c3d0  k  __x64_sys_getdents64+0x0    [FTRACE]
// It names the probed function, not who registered the probe: the kernel's
// table of probes, read through /proc/kcore, says whose handler each one runs
// (kprobe-owners.ts). A module's probe is high, one in module memory no
// listed module owns critical, a tracer's (kprobe events) medium; where the
// table cannot be read the finding says the owner is unknown (medium). The
// module syscalls' own handlers are left out: monitors (modtrace's kprobe
// mode among them) probe them as a matter of course.
import { existsSync, readFileSync } from "node:fs";
import type { Finding, Severity } from "../finding";
import type { KernelWatch } from "../watch";
import { listWatch } from "./list-watch";
import { parseKallsyms, showsAddresses } from "./kallsyms";
import { kernelKprobeLayout, kprobeOwners, type KprobeLayout, type KprobeOwner } from "./kprobe-owners";
import { ModuleLoads } from "./module-loads";
import { ownersNow } from "./module-ranges";

export const RULE = "kprobe_on_sensitive";

export const KPROBES_LIST = "/sys/kernel/debug/kprobes/list";

export interface Kprobe {
  /** The probed address (0 where kptr_restrict hides it). */
  addr: bigint;
  kind: "kprobe" | "kretprobe";
  symbol: string;
  offset: number;
  flags: string[];
}

/** The probes of a kprobes/list text. */
export function parseKprobes(text: string): Kprobe[] {
  const probes: Kprobe[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)\s+([kr])\s+([\w.$]+)\+0x([0-9a-f]+)\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    probes.push({ addr: BigInt(`0x${m[1]}`), kind: m[2] === "r" ? "kretprobe" : "kprobe", symbol: m[3], offset: parseInt(m[4], 16), flags: [...m[5].matchAll(/\[(\w+)\]/g)].map((f) => f[1]) });
  }
  return probes;
}

// The module and kexec syscalls, which monitors probe.
const MONITORED = /^__(x64|ia32|ia32_compat|do|se)_sys_(init_module|finit_module|delete_module|kexec_load|kexec_file_load)$/;

/** Why a probed function is one a rootkit hooks, or undefined. */
export function sensitive(symbol: string, functions: string[]): string | undefined {
  if (MONITORED.test(symbol)) return undefined;
  if (/^__(x64|ia32|ia32_compat|do|se)_sys_\w+$/.test(symbol)) return "a syscall handler";
  if (functions.includes(symbol)) return "a function that lists files, processes, modules or sockets";
  return undefined;
}

function debugfsMounted(): boolean {
  try {
    return readFileSync("/proc/mounts", "utf8").split("\n").some((l) => l.split(" ")[2] === "debugfs");
  } catch {
    return false;
  }
}

export interface KprobesWatchOptions {
  list?: string;
  kcore?: string;
  kallsyms?: string;
  procModules?: string;
  /** struct kprobe's layout (default: the running kernel's BTF), or why there is none. */
  layout?: KprobeLayout | string;
}

export function kprobesWatch(functions: string[], opts: KprobesWatchOptions = {}): KernelWatch {
  const list = opts.list ?? KPROBES_LIST;
  if (!existsSync(list))
    return {
      rule: RULE,
      unavailable: debugfsMounted() ? `no ${list}: this kernel has no kprobes (CONFIG_KPROBES=n)` : `no ${list}: debugfs is not mounted (mount -t debugfs none /sys/kernel/debug)`,
      observe() {},
      scan() {},
    };
  const loads = new ModuleLoads();
  let layout: KprobeLayout | string | undefined = opts.layout;
  // The owners of this scan's probes, read once per scan and only when a probe needs them.
  let owners: KprobeOwner[] | string | undefined;
  const ownersOf = (p: Kprobe): KprobeOwner[] | string => {
    if (owners === undefined) owners = readOwners();
    return typeof owners === "string" ? owners : owners.filter((o) => o.addr === p.addr && o.kind === p.kind);
  };
  const readOwners = (): KprobeOwner[] | string => {
    try {
      layout ??= kernelKprobeLayout();
      if (typeof layout === "string") return layout;
      const syms = parseKallsyms(readFileSync(opts.kallsyms ?? "/proc/kallsyms", "utf8"));
      if (!showsAddresses(syms)) return "kallsyms shows no addresses (kptr_restrict)";
      return kprobeOwners(opts.kcore ?? "/proc/kcore", syms, layout, ownersNow(loads, opts.procModules));
    } catch (e) {
      return `the kernel's table of probes could not be read: ${(e as Error).message}`;
    }
  };
  return listWatch({
    rule: RULE,
    observe: (e) => loads.observe(e),
    // One entry per probe on a sensitive function and owner: a second
    // owner's probe on a function already probed (a rootkit beside a
    // tracer) is news of its own.
    read: () => {
      owners = undefined;
      return parseKprobes(readFileSync(list, "utf8"))
        .filter((p) => !p.flags.includes("GONE"))
        .flatMap((p) => {
          const why = sensitive(p.symbol, functions);
          if (!why) return [];
          const found = ownersOf(p);
          return typeof found === "string" || !found.length ? [{ ...p, why, owners: found }] : found.map((o) => ({ ...p, why, owners: [o] }));
        });
    },
    key: (p) => `${p.kind}\0${p.symbol}\0${p.offset}\0${typeof p.owners === "string" ? "" : p.owners.map((o) => `${o.owner}\0${o.handler}`).join(",")}`,
    finding: (p, atStart, nowNs) => probeFinding(p, p.why, p.owners, loads, atStart, nowNs),
  });
}

function probeFinding(p: Kprobe, why: string, owners: KprobeOwner[] | string, loads: ModuleLoads, atStart: boolean, nowNs: bigint): Finding {
  const known = typeof owners === "string" ? [] : owners;
  const module = known.find((o) => o.module)?.module;
  const unowned = known.some((o) => o.owner === "unowned module memory");
  const severity: Severity = unowned ? "critical" : module ? "high" : "medium";
  const whose =
    typeof owners === "string"
      ? `whose it is, the kprobes list does not say, and ${owners}`
      : known.length
        ? `registered by ${known.map((o) => `${o.owner} (handler ${o.where})`).join(", ")}`
        : "whose it is, the kernel's table of probes no longer showed";
  return {
    rule: RULE,
    severity,
    techniques: ["T1014"],
    description: `a ${p.kind} is registered on ${p.symbol}+0x${p.offset.toString(16)}, ${why}: its handler can change what the function is given or returns; ${whose}${atStart ? "; in place when the capture started" : ""}`,
    timestamp: nowNs,
    evidence: (module && loads.named(module)?.evidence) || [],
    ...(module && { moduleName: module }),
    details: {
      kind: p.kind,
      function: p.symbol,
      offset: p.offset,
      flags: p.flags,
      why,
      inPlaceAtStart: atStart,
      owners: known.map((o) => ({ owner: o.owner, handler: o.where })),
      // Severity by case (lists.json): a module's probe, or one in memory no listed module owns.
      ...(unowned ? { case: "unowned_memory" } : module ? { case: "module" } : {}),
      ...(typeof owners === "string" && { ownerUnknown: owners }),
    },
  };
}
