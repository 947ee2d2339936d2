// Which hook each event gets on this kernel: the fastest it supports, or the
// one --attach asks for, and for every event it cannot get, why.
import { existsSync, readFileSync } from "node:fs";
import { cString, native } from "./native";
import { EVENTS, SYSCALL_PREFIX, type EventInfo } from "../catalogue/events";
import { IMAGE_FUNCTIONS, IMAGE_MODES, modesFor, type ImageMode, type Mode } from "../catalogue/programs";

export type AttachRequest = "auto" | "fentry" | "kprobe" | "raw";

export interface Planned {
  event: EventInfo;
  mode: Mode;
}

export interface Unavailable {
  event: EventInfo;
  why: string;
}

/** How module images are hooked for hashing, or why they are not. */
export type ImagePlan = { mode: ImageMode } | { why: string };

export interface Plan {
  planned: Planned[];
  unavailable: Unavailable[];
  images: ImagePlan;
}

/** raw mode is tp_btf on sys_enter/sys_exit: the program type and both BTF
 * typedefs. 1 when usable, 0 when not, -errno when a probe itself failed. */
export function probeRawSyscalls(): number {
  const lib = native();
  const parts = [lib.mt_probe_prog_raw_tracepoint(), lib.mt_probe_kernel_tracepoint(cString("sys_enter")), lib.mt_probe_kernel_tracepoint(cString("sys_exit"))];
  return parts.find((r) => r < 0) ?? (parts.every((r) => r > 0) ? 1 : 0);
}

/** What the running kernel offers, probed once. */
class KernelFeatures {
  private cache = new Map<string, boolean>();
  private symbols?: Set<string>;

  private once(key: string, probe: () => boolean): boolean {
    if (!this.cache.has(key)) this.cache.set(key, probe());
    return this.cache.get(key)!;
  }

  fentry = () => this.once("fentry", () => native().mt_probe_prog_tracing() > 0);
  kprobes = () => this.once("kprobes", () => existsSync("/sys/bus/event_source/devices/kprobe"));
  rawTracepoints = () => this.once("raw", () => probeRawSyscalls() > 0);
  btfFunction = (name: string) => this.once(`fn:${name}`, () => native().mt_probe_kernel_function(cString(name)) > 0);
  tracepoint = (name: string) => this.once(`tp:${name}`, () => native().mt_probe_kernel_tracepoint(cString(name)) > 0);
  kallsyms = (name: string) => {
    this.symbols ??= new Set(readFileSync("/proc/kallsyms", "utf8").split("\n").map((l) => l.split(" ")[2]));
    return this.symbols.has(name);
  };
}

/** Why a program on kernel function fn cannot use this mode here. */
function whyNotFunction(k: KernelFeatures, fn: string, mode: "fentry" | "kprobe"): string | undefined {
  if (mode === "fentry") {
    if (!k.fentry()) return "this kernel cannot attach fentry/fexit programs";
    if (!k.btfFunction(fn)) return `the kernel's BTF has no function ${fn}`;
    return undefined;
  }
  if (!k.kprobes()) return "this kernel has no kprobes";
  if (!k.kallsyms(fn)) return `the kernel has no symbol ${fn}`;
  return undefined;
}

/** Why the event cannot use this mode here, or undefined when it can. */
function whyNot(k: KernelFeatures, e: EventInfo, mode: Mode): string | undefined {
  const fn = e.kind === "syscall" ? SYSCALL_PREFIX + e.name : e.name;
  switch (mode) {
    case "fentry":
    case "kprobe":
      return whyNotFunction(k, fn, mode);
    case "raw":
      return k.rawTracepoints() ? undefined : "this kernel cannot attach raw tracepoint programs, or its BTF lacks sys_enter/sys_exit";
    case "tracepoint":
      return k.tracepoint(e.name) ? undefined : `this kernel has no module:${e.name} tracepoint (built without loadable modules?)`;
  }
}

/** The image hooks: the best mode that has every IMAGE_FUNCTIONS entry. They
 * tie an image to its load through the call's entry in the calls map, which
 * only a captured load syscall's exit removes, so they need one captured. */
function planImages(k: KernelFeatures, events: EventInfo[], request: AttachRequest, hashing: boolean): ImagePlan {
  if (!hashing) return { why: "hashing is off (--no-hash)" };
  const loads = EVENTS.filter((e) => e.image === "handed").map((e) => e.name);
  if (!events.some((e) => e.image === "handed")) return { why: `hashing needs ${loads.join(" or ")} among the captured events` };
  const reasons: string[] = [];
  // Like do_init_module: --attach fentry or kprobe asks for that hook, raw for the best one.
  for (const mode of request === "fentry" || request === "kprobe" ? [request] : IMAGE_MODES) {
    const why = IMAGE_FUNCTIONS.map((fn) => whyNotFunction(k, fn, mode)).find((w) => w);
    if (!why) return { mode };
    reasons.push(`${mode}: ${why}`);
  }
  return { why: `no hook for the image bytes: ${reasons.join("; ")}` };
}

export function planAttach(events: EventInfo[], request: AttachRequest, hashing = true): Plan {
  const k = new KernelFeatures();
  const plan: Plan = { planned: [], unavailable: [], images: { why: "" } };
  const candidates = (e: EventInfo): Mode[] => {
    if (request === "auto" || e.kind === "tracepoint") return modesFor(e.kind);
    if (e.kind === "function" && request === "raw") return modesFor("function");
    return [request];
  };
  // The syscall events share one mode: the first every one of them can use.
  const syscalls = events.filter((e) => e.kind === "syscall");
  const shared = candidates(syscalls[0] ?? events[0]).find((m) => syscalls.every((e) => !whyNot(k, e, m)));
  for (const e of events) {
    const modes = e.kind === "syscall" && shared ? [shared] : candidates(e);
    const mode = modes.find((m) => !whyNot(k, e, m));
    if (mode) plan.planned.push({ event: e, mode });
    else plan.unavailable.push({ event: e, why: modes.map((m) => `${m}: ${whyNot(k, e, m)}`).join("; ") });
  }
  plan.images = planImages(k, plan.planned.map((p) => p.event), request, hashing);
  native().mt_probe_done(); // the kernel BTF the probes parsed is not needed after this
  return plan;
}
