// `modtrace doctor`: what this kernel supports and whether this process may
// use it. The hook probes attach a do-nothing stub for a moment; probes that
// need privileges say so.
import { printOut } from "../output/outputs";
import { builtWith } from "../loader/native";
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { hasCompatEntry, planAttach, planRefusal, syscallModeVerdicts, type AttachRequest } from "../loader/attach-plan";
import { bpfPrivileges } from "../loader/capabilities";
import { HOOKED_EVENTS, SYSCALL_PREFIX, SYSCALL32_PREFIX } from "../catalogue/events";
import { hookLabel, imageHookLabel } from "../loader/hooks";
import { HookProbes, verdictOk, whyNotYes, type Verdict } from "../loader/hook-verdicts";
import { cString, native } from "../loader/native";

interface Check {
  what: string;
  ok: boolean | null; // null: could not tell
  detail: string;
}

// libbpf's probes load tiny programs; without privileges they fail as if the
// feature were missing, so their answer only counts when we may load BPF.
let privileged = false;

function probe(result: number, yes: string, no: string, needsPrivileges = true): Pick<Check, "ok" | "detail"> {
  if (needsPrivileges && !privileged) return { ok: null, detail: "cannot tell without privileges (run doctor as root)" };
  if (result > 0) return { ok: true, detail: yes };
  if (result === 0) return { ok: false, detail: no };
  return { ok: null, detail: `could not probe (errno ${-result}${-result === 1 ? ", needs root" : ""})` };
}

/** A hook verdict as a check: what stub attached where, or why not. */
function hookCheck(v: Verdict, stub: string, targets: string[]): Pick<Check, "ok" | "detail"> {
  return { ok: verdictOk(v), detail: whyNotYes(v) ?? `a ${stub} stub loaded and attached to ${targets.join(", ")}` };
}

function kernelConfigured(name: string): boolean | undefined {
  for (const path of [`/boot/config-${release()}`]) {
    if (existsSync(path)) return new RegExp(`^${name}=[ym]$`, "m").test(readFileSync(path, "utf8"));
  }
  return undefined;
}

export interface DoctorReport {
  kernel: string;
  checks: Check[];
  /** What capture would attach with the --attach asked (only with privileges: the probes need them). */
  plan?: {
    attach: AttachRequest;
    /** Why capture would refuse this plan (planRefusal), if it would. */
    refusal?: string;
    planned: { event: string; mode: string; hook: string; fallbacks: string[] }[];
    unavailable: { event: string; why: string }[];
    /** What streams module images to be hashed, or why nothing can. */
    images: { mode: string; hook: string } | { why: string };
  };
  canCapture: boolean;
}

export function doctor(json = false, attach: AttachRequest = "auto"): number {
  const report = examine(attach);
  if (json) printOut(`${JSON.stringify(report, null, 2)}\n`);
  else print(report);
  return report.canCapture ? 0 : 1;
}

function examine(attach: AttachRequest): DoctorReport {
  const lib = native();
  const privileges = bpfPrivileges();
  privileged = privileges.ok;
  const checks: Check[] = [];
  const add = (what: string, r: Pick<Check, "ok" | "detail">) => checks.push({ what, ...r });

  add("kernel", { ok: true, detail: release() });
  add("built with", { ok: true, detail: builtWith() });
  add("BTF", existsSync("/sys/kernel/btf/vmlinux")
    ? { ok: true, detail: "/sys/kernel/btf/vmlinux (CO-RE relocations work)" }
    : { ok: false, detail: "no /sys/kernel/btf/vmlinux: CO-RE objects cannot be relocated on this kernel" });
  add("privileges", privileges.ok
    ? { ok: true, detail: "may load and attach BPF programs" }
    : { ok: false, detail: `missing ${privileges.missing.join(", ")} (or CAP_SYS_ADMIN): run as root` });
  add("ring buffer", probe(lib.mt_probe_map_ringbuf(), "BPF_MAP_TYPE_RINGBUF", "no BPF ring buffer (kernel older than 5.8)"));
  // The same stubs, and the same verdicts, as the plan below and capture's.
  const probes = new HookProbes();
  const compat = hasCompatEntry();
  const modes = syscallModeVerdicts(probes, HOOKED_EVENTS, compat);
  add("raw tracepoints", hookCheck(modes.raw.verdict, "tp_btf", modes.raw.targets));
  add("bpf_loop", probe(lib.mt_probe_helper_loop(), "path walks use bpf_loop", "no bpf_loop helper (kernel older than 5.17): paths cannot be read"));
  add("fentry", hookCheck(modes.fentry.verdict, "fentry", modes.fentry.targets));
  add("kprobes", hookCheck(modes.kprobe.verdict, "kprobe", modes.kprobe.targets));
  const modules = existsSync("/proc/modules") || kernelConfigured("CONFIG_MODULES");
  const finitFunction = `${SYSCALL_PREFIX}finit_module`;
  const syscallFn = lib.mt_probe_kernel_function(cString(finitFunction));
  add("loadable modules", modules
    ? { ok: true, detail: "CONFIG_MODULES on: module syscalls and tracepoints exist" }
    : { ok: false, detail: "no /proc/modules: kernel built without modules; module syscalls fail with ENOSYS, and modtrace still reports those attempts" });
  add("module syscall functions", probe(syscallFn, `${finitFunction} in kernel BTF`, `no ${finitFunction} in kernel BTF`, false));
  // Not a failure either way: a kernel without the 32-bit entry has no such door to watch.
  const int80 = compat ? lib.mt_probe_int80() : 0;
  add("32-bit entry", {
    ok: true,
    detail: !compat
      ? "none (no IA32_EMULATION): no 32-bit door to the module syscalls on this kernel"
      : int80 === 1
        ? `IA32_EMULATION: ${SYSCALL32_PREFIX}* are hooked beside ${SYSCALL_PREFIX}* (fentry, kprobe); raw mode tells the entries apart`
        : int80 === 0
          ? `built in (${SYSCALL32_PREFIX}* exist, and fentry and kprobe modes hook them too), but int 0x80 does not answer here (ia32_emulation=0 at boot, or refused by the hypervisor): the 32-bit door is shut`
          : `IA32_EMULATION: ${SYSCALL32_PREFIX}* are hooked beside ${SYSCALL_PREFIX}*; whether int 0x80 answers could not be tried (${int80})`,
  });

  let plan: DoctorReport["plan"];
  if (privileged) {
    const p = planAttach(HOOKED_EVENTS, attach, true, probes);
    plan = {
      attach,
      refusal: planRefusal(p, attach),
      planned: p.planned.map((x) => ({ event: x.event.name, mode: x.mode, hook: hookLabel(x.event, x.mode), fallbacks: x.fallbacks })),
      unavailable: p.unavailable.map((u) => ({ event: u.event.name, why: u.why })),
      images: "mode" in p.images ? { mode: p.images.mode, hook: imageHookLabel(p.images.mode) } : p.images,
    };
  }
  probes.done();
  // With --attach fentry or kprobe, a kernel without that hook for the syscalls: capture would refuse.
  const canCapture = Boolean(privileges.ok && checks.find((c) => c.what === "ring buffer")?.ok && (plan ? !plan.refusal : checks.find((c) => c.what === "raw tracepoints")?.ok));
  return { kernel: release(), checks, plan, canCapture };
}

function print(report: DoctorReport) {
  for (const c of report.checks) {
    const mark = c.ok === true ? "yes" : c.ok === false ? "no " : "?  ";
    printOut(`${mark}  ${c.what.padEnd(26)} ${c.detail}\n`);
  }
  if (report.plan) {
    printOut(`\nWhat capture would attach (--attach ${report.plan.attach}):\n`);
    for (const p of report.plan.planned) printOut(`  ${p.event.padEnd(15)} ${p.hook}\n`);
    for (const u of report.plan.unavailable) printOut(`  ${u.event.padEnd(15)} unavailable: ${u.why}\n`);
    const images = report.plan.images;
    printOut(`  ${"sha256".padEnd(15)} ${"hook" in images ? `module images through ${images.hook}` : `unavailable: ${images.why}; load events say so in sha256Error`}\n`);
  }
  const refused = report.plan?.refusal !== undefined;
  printOut(report.canCapture
    ? `\nmodtrace capture can run here${report.plan && report.plan.attach !== "auto" ? ` with --attach ${report.plan.attach}` : ""}.\n`
    : refused
      ? `\nmodtrace capture cannot run here with --attach ${report.plan!.attach}: ${report.plan!.attach !== "auto" && report.plan!.planned.length ? "none of the syscall events can use it" : "none of the events can be attached"} (see above).\n`
      : "\nmodtrace capture cannot run here as things stand: see the 'no' lines above.\n");
}
