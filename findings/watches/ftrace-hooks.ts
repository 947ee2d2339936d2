// ftrace_hooked: a kernel function whose ftrace callback is a module's. The
// ftrace way of hooking (an ftrace_ops with IPMODIFY that sends the call to
// the module's own function) leaves the syscall dispatch clean, so
// syscall_hooked cannot see it; it is how several rootkits (and livepatch)
// redirect functions. The kernel lists every function with an ftrace callback
// in tracefs's enabled_functions, naming each callback's symbol and module:
//   __do_sys_getpgrp (1) R I  	tramp: 0x… (handler+0x0/0x58 [rootkit]) ->ftrace_ops_assist_func+0x0/0x100
// No baseline is needed: a hook in place when the capture starts is found by
// the first scan. BPF trampolines ([bpf]) are the kernel's and modtrace's own.
//
// Once a second ftrace ops shares the function (a kprobe on it, say) the
// kernel shows no callback at all, only the list function:
//   __x64_sys_getdents64 (2) R I   ->arch_ftrace_ops_list_func+0x0/0x1d0
// An IP-modifying ops (I) on a function rootkits hook, with its owner so
// hidden, is reported too (case owner_hidden), unless its owner was named
// before; a rootkit can hide its name this way on purpose.
//
// A callback no symbol names is printed as a bare address, "(0xffffffffc09f1010)"
// or "direct-->0x…": code of a module gone from the kernel's own lookup tree
// too, not only from the module list. Memory names its owner then
// (module-ranges.ts): a module this capture saw load, by the code range its
// module_load recorded, or module memory no listed module owns.
//
// What it cannot see: a hook through kprobes (their callbacks run behind the
// kernel's kprobe_ftrace_handler), inline patches, a callback in core kernel
// text, and a rootkit that hides its record from enabled_functions; it needs
// tracefs mounted.
import { existsSync, readFileSync } from "node:fs";
import type { EventView } from "../../record/event-view";
import type { Finding } from "../finding";
import type { KernelWatch } from "../watch";
import { listWatch } from "./list-watch";
import { isLivepatch } from "./livepatch";
import { sensitive } from "./kprobes";
import { ModuleLoads } from "./module-loads";
import { codeOwner, ownersNow, ownerWords, type CodeOwner } from "./module-ranges";

export const RULE = "ftrace_hooked";

const PLACES = ["/sys/kernel/tracing/enabled_functions", "/sys/kernel/debug/tracing/enabled_functions"];

/** Where tracefs shows enabled_functions here, if it does. */
export const enabledFunctionsFile = (): string | undefined => PLACES.find((p) => existsSync(p));

/** Modules whose ftrace callbacks are the kernel's own business. */
const OWN = new Set(["bpf"]);

export interface FtraceHook {
  function: string;
  /** The callback's module; undefined where the kernel shows no callback,
   * or shows it by address only. */
  module?: string;
  /** The callback's address, where no symbol names it. */
  address?: bigint;
  callback: string; // "handler+0x0/0x58 [rootkit]"
}

/** The functions of an enabled_functions text whose callbacks lie in a
 * module, and those of `sensitive` functions with an IP-modifying ops whose
 * callback the kernel does not show (several ops share the function). */
export function moduleCallbacks(text: string, isSensitive: (fn: string) => boolean = () => false): FtraceHook[] {
  const hooks: FtraceHook[] = [];
  const hidden: FtraceHook[] = [];
  let fn = "";
  for (const line of text.split("\n")) {
    // A line that starts with white space goes on about the function before it ("\tdirect-->…").
    if (!/^\s/.test(line)) {
      fn = line.split(" ")[0];
      // "name (count) R I D": the ops count and the flags before the first tab.
      const head = /^\S+ \((\d+)\)([^\t]*)/.exec(line);
      if (head && Number(head[1]) >= 2 && / I\b/.test(head[2]) && !/\[[\w-]+\]/.test(line) && isSensitive(fn))
        hidden.push({ function: fn, callback: `not shown: ${head[1]} ftrace ops share the function, one of them IP-modifying` });
    }
    if (!fn) continue;
    const rest = /^\s/.test(line) ? line : line.slice(fn.length);
    for (const m of rest.matchAll(/([\w.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+) \[([\w-]+)\]/g))
      if (!OWN.has(m[2]) && !hooks.some((h) => h.function === fn && h.module === m[2])) hooks.push({ function: fn, module: m[2], callback: `${m[1]} [${m[2]}]` });
    // A callback (in parentheses after its trampoline) or direct call by address only.
    for (const m of rest.matchAll(/(?:\(|direct-->)(0x[0-9a-f]+)\b/g))
      if (!hooks.some((h) => h.function === fn && h.callback === m[1])) hooks.push({ function: fn, address: BigInt(m[1]), callback: m[1] });
  }
  return [...hooks, ...hidden.filter((h) => !hooks.some((k) => k.function === h.function))];
}

export function ftraceHooksWatch(opts: { enabledFunctions?: string; hookedFunctions?: string[]; procModules?: string } = {}): KernelWatch {
  const file = opts.enabledFunctions ?? enabledFunctionsFile();
  if (!file || !existsSync(file))
    return { rule: RULE, unavailable: "no enabled_functions in tracefs (not mounted, or no CONFIG_DYNAMIC_FTRACE): mount -t tracefs nodev /sys/kernel/tracing", observe() {}, scan() {} };
  const loads = new ModuleLoads();
  const isSensitive = (fn: string) => sensitive(fn, opts.hookedFunctions ?? []) !== undefined;
  // Functions whose hook was named: its owner hidden later is no news.
  const named = new Set<string>();
  return listWatch({
    rule: RULE,
    observe: (e: EventView) => loads.observe(e),
    read: () => moduleCallbacks(readFileSync(file, "utf8"), isSensitive),
    key: (h) => (h.module === undefined ? `${h.function}\0hidden` : `${h.function}\0${h.callback}`),
    finding(h, first, nowNs) {
      if (h.address !== undefined) return unnamedCallback(h, h.address, codeOwner(h.address, ownersNow(loads, opts.procModules)), loads, first, nowNs);
      if (h.module === undefined) return named.has(h.function) ? undefined : ownerHidden(h, first, nowNs);
      named.add(h.function);
      const seen = loads.named(h.module);
      const patch = isLivepatch(h.module);
      return {
        rule: RULE,
        severity: "critical",
        techniques: ["T1014"],
        description: `${h.function} is ${patch ? "live-patched" : "hooked through ftrace"} by module ${h.module} (callback ${h.callback})${patch ? ", a live patch the kernel enabled (/sys/kernel/livepatch)" : ""}${first ? "; in place when the capture started" : ""}`,
        timestamp: nowNs,
        evidence: seen?.evidence ?? [],
        moduleName: h.module,
        details: { function: h.function, callback: h.callback, inPlaceAtStart: first, ...(patch && { case: "livepatch" }) },
      };
    },
  });
}

function ownerHidden(h: FtraceHook, first: boolean, nowNs: bigint): Finding {
  return {
    rule: RULE,
    severity: "high",
    techniques: ["T1014"],
    description: `${h.function} is redirected through ftrace by an IP-modifying callback whose owner the kernel does not show (${h.callback}: a kprobe beside a hook, or a second ops added to hide it)${first ? "; in place when the capture started" : ""}`,
    timestamp: nowNs,
    evidence: [],
    details: { function: h.function, callback: h.callback, inPlaceAtStart: first, case: "owner_hidden" },
  };
}

/** A callback by address only: its owner by memory, or none known. */
function unnamedCallback(h: FtraceHook, addr: bigint, owner: CodeOwner | undefined, loads: ModuleLoads, first: boolean, nowNs: bigint): Finding {
  const module = owner && "module" in owner ? owner.module : undefined;
  const where = owner ? ownerWords(owner) : "outside module memory";
  return {
    rule: RULE,
    severity: "critical",
    techniques: ["T1014"],
    description: `${h.function} is hooked through ftrace by a callback no symbol names (${h.callback}, ${where}: a module hidden from the kernel's own lookup)${first ? "; in place when the capture started" : ""}`,
    timestamp: nowNs,
    evidence: (module && loads.named(module)?.evidence) || [],
    ...(module && { moduleName: module }),
    details: { function: h.function, callback: h.callback, inPlaceAtStart: first, case: "unnamed_callback", owner: owner ? ("module" in owner ? owner.by : "unowned") : "none" },
  };
}
