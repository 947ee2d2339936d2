// kprobe_on_sensitive: a kprobe (or kretprobe) on a function rootkits hook to
// hide or to spy: a syscall handler, directory iteration, the /proc and
// socket listings. A module's kprobe runs its own handler before the
// function and can change its arguments or, with a kretprobe, what it
// returns, and neither the syscall dispatch nor ftrace's list shows it (the
// callback behind an ftrace-based kprobe is the kernel's own
// kprobe_ftrace_handler). The kernel lists every registered kprobe in
// debugfs (kprobes/list):
//   ffffffffa1b2c3d0  k  __x64_sys_getdents64+0x0    [FTRACE]
// It names the probed function, not who registered the probe: the finding
// says so. The module syscalls' own handlers are left out: monitors
// (modtrace's kprobe mode among them) probe them as a matter of course.
import { existsSync, readFileSync } from "node:fs";
import type { KernelWatch } from "../watch";
import { listWatch } from "./list-watch";

export const RULE = "kprobe_on_sensitive";

const LIST = "/sys/kernel/debug/kprobes/list";

export interface Kprobe {
  kind: "kprobe" | "kretprobe";
  symbol: string;
  offset: number;
  flags: string[];
}

/** The probes of a kprobes/list text. */
export function parseKprobes(text: string): Kprobe[] {
  const probes: Kprobe[] = [];
  for (const line of text.split("\n")) {
    const m = /^[0-9a-f]+\s+([kr])\s+([\w.$]+)\+0x([0-9a-f]+)\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    probes.push({ kind: m[1] === "r" ? "kretprobe" : "kprobe", symbol: m[2], offset: parseInt(m[3], 16), flags: [...m[4].matchAll(/\[(\w+)\]/g)].map((f) => f[1]) });
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

export function kprobesWatch(functions: string[], opts: { list?: string } = {}): KernelWatch {
  const list = opts.list ?? LIST;
  if (!existsSync(list))
    return {
      rule: RULE,
      unavailable: debugfsMounted() ? `no ${list}: this kernel has no kprobes (CONFIG_KPROBES=n)` : `no ${list}: debugfs is not mounted (mount -t debugfs none /sys/kernel/debug)`,
      observe() {},
      scan() {},
    };
  return listWatch({
    rule: RULE,
    read: () => parseKprobes(readFileSync(list, "utf8")).filter((p) => !p.flags.includes("GONE")),
    key: (p) => `${p.kind}\0${p.symbol}\0${p.offset}`,
    finding(p, atStart, nowNs) {
      const why = sensitive(p.symbol, functions);
      if (!why) return undefined;
      return {
        rule: RULE,
        severity: "medium",
        techniques: ["T1014"],
        description: `a ${p.kind} is registered on ${p.symbol}+0x${p.offset.toString(16)}, ${why}: its handler can change what the function is given or returns (the kprobes list does not say whose it is: a module's, or a tracer's)${atStart ? "; in place when the capture started" : ""}`,
        timestamp: nowNs,
        evidence: [],
        details: { kind: p.kind, function: p.symbol, offset: p.offset, flags: p.flags, why, inPlaceAtStart: atStart },
      };
    },
  });
}
