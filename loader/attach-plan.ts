// Which hook each event gets on this kernel: the fastest one a stub probe
// (hook-verdicts.ts) showed to load and attach here, or the one --attach asks
// for; the modes after it, to fall back to when capture cannot load or attach
// it; and for every event without a hook, why.
import { EVENTS, SYSCALL_PREFIX, syscall32Function, tracepointOf, type EventInfo } from "../catalogue/events";
import { IMAGE_FUNCTIONS, IMAGE_MODES, modesFor, type ImageMode, type Mode } from "../catalogue/programs";
import { allOf, HookProbes, whyNotYes, type Verdict } from "./hook-verdicts";
import { cString, native } from "./native";

export type AttachRequest = "auto" | "fentry" | "kprobe" | "raw";

export interface Planned {
  event: EventInfo;
  mode: Mode;
  /** The modes to try, in order, when loading or attaching mode fails at capture. */
  fallbacks: Mode[];
}

export interface Unavailable {
  event: EventInfo;
  why: string;
}

/** How module images are hooked for hashing (and what to fall back to), or why they are not. */
export type ImagePlan = { mode: ImageMode; fallbacks: ImageMode[] } | { why: string };

export interface Plan {
  planned: Planned[];
  unavailable: Unavailable[];
  images: ImagePlan;
  /** The kernel has the 32-bit entry (IA32_EMULATION): fentry and kprobe
   * modes hook its functions too, and a mode that cannot is not used. */
  compat: boolean;
}

/** Test hook (tests/host): MODTRACE_TEST_TRY_EVERY_MODE=1 keeps the modes the
 * probes rejected in the order, so capture tries them and the kernel, not the
 * probes, decides: what shows that a probe's no is the kernel's, and drives
 * the capture-time fallback on a real kernel. */
function tryEveryMode(): boolean {
  return process.env.MODTRACE_TEST_TRY_EVERY_MODE === "1";
}

/** The kernel function a syscall or function event hooks. */
function functionOf(e: EventInfo): string {
  return e.kind === "syscall" ? SYSCALL_PREFIX + e.name : e.name;
}

/** Whether this kernel has the 32-bit syscall entry: its compat functions are
 * in the kernel's BTF only where IA32_EMULATION was built in. */
export function hasCompatEntry(): boolean {
  return EVENTS.some((e) => e.door === "module" && syscall32Function(e) && native().mt_probe_kernel_function(cString(syscall32Function(e)!)) > 0);
}

/** Whether the event can use this mode here, by the stub of that mode's
 * program type; a syscall on a kernel with the 32-bit entry needs both. */
function verdictFor(probes: HookProbes, e: EventInfo, mode: Mode, compat = false): Verdict {
  switch (mode) {
    case "fentry":
    case "kprobe":
      if (compat && syscall32Function(e)) return allOf([probes.probe(mode, functionOf(e)), probes.probe(mode, syscall32Function(e)!)]);
      return probes.probe(mode, functionOf(e));
    case "raw":
      return probes.every("tp_btf", ["sys_enter", "sys_exit"]);
    case "tracepoint":
      return probes.probe("tp_btf", tracepointOf(e).name);
  }
}

/** The verdict on each mode for the syscall events, all of them but the
 * optional ones (a kernel without kexec): what `modtrace doctor` prints as
 * the fentry, kprobes and raw tracepoints lines. */
export function syscallModeVerdicts(probes: HookProbes, events: EventInfo[], compat: boolean): Record<"fentry" | "kprobe" | "raw", { verdict: Verdict; targets: string[] }> {
  const syscalls = events.filter((e) => e.kind === "syscall" && !e.optional);
  const of = (mode: Mode) => ({
    verdict: allOf(syscalls.map((e) => verdictFor(probes, e, mode, compat))),
    targets: mode === "raw" ? ["sys_enter", "sys_exit"] : syscalls.flatMap((e) => [functionOf(e), ...(compat && syscall32Function(e) ? [syscall32Function(e)!] : [])]),
  });
  return { fentry: of("fentry"), kprobe: of("kprobe"), raw: of("raw") };
}

/** The image hooks: the modes that have every IMAGE_FUNCTIONS entry, best
 * first. They tie an image to its load through the call's entry in the calls
 * map, which only a captured load syscall's exit removes, so they need one captured. */
function planImages(probes: HookProbes, events: EventInfo[], request: AttachRequest, hashing: boolean): ImagePlan {
  if (!hashing) return { why: "hashing is off (--no-hash)" };
  const loads = EVENTS.filter((e) => e.image === "handed").map((e) => e.name);
  if (!events.some((e) => e.image === "handed")) return { why: `hashing needs ${loads.join(" or ")} captured, and none of them is (left out with -e, or unavailable above)` };
  const reasons: string[] = [];
  const usable: ImageMode[] = [];
  // Like do_init_module: --attach fentry or kprobe asks for that hook, raw for the best one.
  for (const mode of request === "fentry" || request === "kprobe" ? [request] : IMAGE_MODES) {
    const why = whyNotYes(probes.every(mode, IMAGE_FUNCTIONS));
    if (!why || tryEveryMode()) usable.push(mode);
    else reasons.push(`${mode}: ${why}`);
  }
  if (usable.length) return { mode: usable[0], fallbacks: usable.slice(1) };
  return { why: `no hook for the image bytes: ${reasons.join("; ")}` };
}

/** Plans with the probes given (doctor shares its own, so it probes each hook
 * once, and frees them), or with probes of its own, freed before it returns. */
export function planAttach(events: EventInfo[], request: AttachRequest, hashing = true, given?: HookProbes): Plan {
  const probes = given ?? new HookProbes();
  const compat = hasCompatEntry();
  const plan: Plan = { planned: [], unavailable: [], images: { why: "" }, compat };
  const candidates = (e: EventInfo): Mode[] => {
    if (request === "auto" || e.kind === "tracepoint") return modesFor(e.kind);
    if (e.kind === "function" && request === "raw") return modesFor("function");
    return [request];
  };
  const usable = (e: EventInfo, m: Mode) => tryEveryMode() || verdictFor(probes, e, m, compat).state === "yes";
  // The syscall events share their modes where they can: raw's programs see
  // every syscall, so one syscall event on raw beside another on fentry
  // would be reported twice. The optional ones (kexec, which a kernel may
  // lack) do not choose the mode: they take the shared one, or none.
  const syscalls = events.filter((e) => e.kind === "syscall");
  const deciding = syscalls.some((e) => !e.optional) ? syscalls.filter((e) => !e.optional) : syscalls;
  const shared = deciding.length ? candidates(deciding[0]).filter((m) => deciding.every((e) => usable(e, m))) : [];
  for (const e of events) {
    let modes = e.kind === "syscall" && shared.length ? shared : candidates(e).filter((m) => usable(e, m));
    // An optional event that cannot use the shared mode goes without (a
    // fallback at capture moves it with the others, or leaves it out).
    if (e.kind === "syscall" && e.optional && shared.length && !usable(e, shared[0])) modes = [];
    if (modes.length) plan.planned.push({ event: e, mode: modes[0], fallbacks: modes.slice(1) });
    else plan.unavailable.push({ event: e, why: candidates(e).map((m) => `${m}: ${whyNotYes(verdictFor(probes, e, m, compat))}`).join("; ") });
  }
  plan.images = planImages(probes, plan.planned.map((p) => p.event), request, hashing);
  if (!given) probes.done(); // the kernel BTF the probes parsed is not needed after this
  return plan;
}

/** Why capture refuses this plan, or undefined when it can run: nothing can
 * be attached, or --attach MODE (a question about the syscalls) that none of
 * the syscall events can use, rather than capture the kernel's own events alone. */
export function planRefusal(plan: Plan, request: AttachRequest): string | undefined {
  const list = (us: Unavailable[]) => us.map((u) => `${u.event.name} (${u.why})`).join(", ");
  if (!plan.planned.length) return `none of the events can be attached on this kernel: ${list(plan.unavailable)}`;
  const syscalls = plan.unavailable.filter((u) => u.event.kind === "syscall");
  if (request !== "auto" && syscalls.length && !plan.planned.some((p) => p.event.kind === "syscall"))
    return `--attach ${request}: none of the syscall events can use it on this kernel: ${list(syscalls)}`;
  return undefined;
}
