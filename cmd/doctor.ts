// `modtrace doctor`: what this kernel supports and whether this process may
// use it. Attaches nothing; probes that need privileges say so.
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { planAttach, probeRawSyscalls } from "../loader/attach-plan";
import { bpfPrivileges } from "../loader/capabilities";
import { EVENTS, hookLabel } from "../loader/events";
import { cString, native } from "../loader/native";

interface Check {
  what: string;
  ok: boolean | undefined; // undefined: could not tell
  detail: string;
}

// libbpf's probes load tiny programs; without privileges they fail as if the
// feature were missing, so their answer only counts when we may load BPF.
let privileged = false;

function probe(result: number, yes: string, no: string, needsPrivileges = true): Pick<Check, "ok" | "detail"> {
  if (needsPrivileges && !privileged) return { ok: undefined, detail: "cannot tell without privileges (run doctor as root)" };
  if (result > 0) return { ok: true, detail: yes };
  if (result === 0) return { ok: false, detail: no };
  return { ok: undefined, detail: `could not probe (errno ${-result}${-result === 1 ? ", needs root" : ""})` };
}

function kernelConfigured(name: string): boolean | undefined {
  for (const path of [`/boot/config-${release()}`]) {
    if (existsSync(path)) return new RegExp(`^${name}=[ym]$`, "m").test(readFileSync(path, "utf8"));
  }
  return undefined;
}

export function doctor(): number {
  const lib = native();
  const privileges = bpfPrivileges();
  privileged = privileges.ok;
  const checks: Check[] = [];
  const add = (what: string, r: Pick<Check, "ok" | "detail">) => checks.push({ what, ...r });

  add("kernel", { ok: true, detail: release() });
  add("BTF", existsSync("/sys/kernel/btf/vmlinux")
    ? { ok: true, detail: "/sys/kernel/btf/vmlinux (CO-RE relocations work)" }
    : { ok: false, detail: "no /sys/kernel/btf/vmlinux: CO-RE objects cannot be relocated on this kernel" });
  add("privileges", privileges.ok
    ? { ok: true, detail: "may load and attach BPF programs" }
    : { ok: false, detail: `missing ${privileges.missing.join(", ")} (or CAP_SYS_ADMIN): run as root` });
  add("ring buffer", probe(lib.mt_probe_map_ringbuf(), "BPF_MAP_TYPE_RINGBUF", "no BPF ring buffer (kernel older than 5.8)"));
  add("raw tracepoints", probe(probeRawSyscalls(), "raw_syscalls sys_enter/sys_exit usable", "no raw tracepoint programs, or no sys_enter/sys_exit in the kernel's BTF"));
  add("bpf_loop", probe(lib.mt_probe_helper_loop(), "path walks use bpf_loop", "no bpf_loop helper (kernel older than 5.17): paths cannot be read"));
  add("fentry", probe(lib.mt_probe_prog_tracing(), "BPF_PROG_TYPE_TRACING loads", "no fentry/fexit programs"));
  const kprobes = existsSync("/sys/bus/event_source/devices/kprobe");
  add("kprobes", kprobes ? { ok: true, detail: "kprobe PMU present" } : { ok: false, detail: "no kprobe PMU (CONFIG_KPROBES off?)" });
  const modules = existsSync("/proc/modules") || kernelConfigured("CONFIG_MODULES");
  const syscallFn = lib.mt_probe_kernel_function(cString("__x64_sys_finit_module"));
  add("loadable modules", modules
    ? { ok: true, detail: "CONFIG_MODULES on: module syscalls and tracepoints exist" }
    : { ok: false, detail: "no /proc/modules: kernel built without modules; module syscalls fail with ENOSYS, and modtrace still reports those attempts" });
  add("module syscall functions", probe(syscallFn, "__x64_sys_finit_module in kernel BTF", "no __x64_sys_finit_module in kernel BTF", false));

  for (const c of checks) {
    const mark = c.ok === true ? "yes" : c.ok === false ? "no " : "?  ";
    process.stdout.write(`${mark}  ${c.what.padEnd(26)} ${c.detail}\n`);
  }
  if (privileged) {
    const plan = planAttach(EVENTS, "auto");
    process.stdout.write("\nWhat capture would attach (--attach auto):\n");
    for (const p of plan.planned) process.stdout.write(`  ${p.event.name.padEnd(15)} ${hookLabel(p.event, p.mode)}\n`);
    for (const u of plan.unavailable) process.stdout.write(`  ${u.event.name.padEnd(15)} unavailable: ${u.why}\n`);
  }
  const canCapture = privileges.ok && checks.find((c) => c.what === "raw tracepoints")?.ok && checks.find((c) => c.what === "ring buffer")?.ok;
  process.stdout.write(canCapture
    ? "\nmodtrace capture can run here.\n"
    : "\nmodtrace capture cannot run here as things stand: see the 'no' lines above.\n");
  return canCapture ? 0 : 1;
}
