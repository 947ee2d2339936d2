// The vm tier, kernel-state findings: the hidden_module and
// syscall_dispatch_changed watches against real rootkit techniques, from the
// out-of-tree modules in tests/vm/modules (built here for the VM's kernel):
// one hiding from the module list, one from /sys/module, one from both (found
// by its memory once no capture saw it load), one writing
// sys_call_table, one patching the x64_sys_call switch, one the 32-bit
// (ia32_sys_call) switch, one hooking getpgrp, getdents64 and the /proc
// iterator through ftrace; the autoload helper
// (modprobe_path) pointed elsewhere before and during a capture; and no
// finding for ordinary loads. tests/vm/findings-kernel-guest.sh runs in the guest.
import { beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CACHE, guestScript, outputText, prepare, REPO, runInVm, vmCannotRun, type VmResult } from "./run";

const RULES = ["hidden_module", "syscall_hooked", "syscall_hook_removed", "syscall_dispatch_changed", "taint_unexplained", "modprobe_path_changed", "ftrace_hooked", "kernel_ran_program"];
const MODULES = ["mt_plain", "mt_hide_list", "mt_hide_kobj", "mt_hook_table", "mt_hook_dispatch", "mt_hook_ia32", "mt_ftrace_hook", "mt_hide_staging", "mt_hook_hidden", "mt_kprobe_hook", "mt_hide_both"];
/** The hooked function an ftrace finding names, short: __do_sys_getpgrp or __x64_sys_getpgrp is getpgrp. */
const hookedFunction = (f: any) => String(f.details.function).replace(/^__(do|x64)_sys_/, "");
/** The 32-bit switch's hook is named by its jump's offset, which the build decides. */
const number = (f: any) => (f.details.where === "ia32_sys_call" ? (Number.isInteger(f.details.number) ? "offset" : f.details.number) : f.details.number);

const cannotRun = vmCannotRun();
if (cannotRun && process.env.CI !== "true") console.log(`vm tests skipped: ${cannotRun}`);

function sh(cmd: string[]) {
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ["ignore", "inherit", "pipe"] });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status ?? r.signal}):\n${r.stderr}`);
}

export type Mode = "fentry" | "kprobe" | "raw";
/** The hook capture says it gave the syscall events in each mode. */
const SYSCALL_HOOK: Record<Mode, string> = { fentry: "fentry/fexit", kprobe: "ksyscall kprobe/kretprobe", raw: "raw_syscalls sys_exit" };

/** The scenario with every capture pinned to one attach mode (--attach MODE):
 * the kernel watches and their findings do not depend on it, and must not. */
export function findingsKernelSuite(mode: Mode) {
describe.skipIf(!!cannotRun && process.env.CI !== "true")(`kernel-state findings in a Debian 6.1 VM, --attach ${mode}`, () => {
  let r: VmResult;
  let prepared: ReturnType<typeof prepare>;
  let events: any[];
  let findings: any[];
  let steps: Record<string, number>;
  const text = (name: string) => outputText(r, name);
  const lines = (name: string) => text(name).trim().split("\n").filter(Boolean);
  const of = (rule: string) => findings.filter((f) => f.eventName === rule);
  /** The module_load of a step's insmod. */
  const loadOf = (module: string) => events.find((e) => e.eventName === "module_load" && e.args.find((a: any) => a.name === "name")?.value === module);

  beforeAll(async () => {
    if (cannotRun) throw new Error(`the vm tier cannot run here: ${cannotRun}`);
    const prep = (prepared = prepare());
    sh([join(REPO, "tests/vm/modules/build.sh")]);
    const dir = join(DEFAULT_CACHE, "modules", prep.kernelVersion);
    const files: Record<string, string> = {};
    for (const m of MODULES) files[`/root/mods/${m}.ko`] = join(dir, `${m}.ko`);
    files["/root/trigger"] = join(REPO, "tests/trigger");
    // The kernel package's md5sums, where dpkg keeps it: modtrace scan's record of each module file.
    const md5sums = join(DEFAULT_CACHE, "modules", `${prep.kernelPackage}.md5sums`);
    writeFileSync(md5sums, execFileSync("dpkg-deb", ["-I", join(DEFAULT_CACHE, "debs", prep.kernelDeb), "md5sums"]));
    files[`/var/lib/dpkg/info/${prep.kernelPackage}.md5sums`] = md5sums;
    // kmod's record, for the guest's kmod (this machine's, copied in): the autoload helper's package.
    files["/var/lib/dpkg/info/kmod.md5sums"] = "/var/lib/dpkg/info/kmod.md5sums";
    r = await runInVm({
      script: guestScript("findings-kernel-guest.sh", { ATTACH: mode }),
      files,
      timeoutSec: 900,
    });
    console.log(`vm: ran the kernel-findings scenario (--attach ${mode}) in ${r.seconds.toFixed(1)} s`);
    if (r.exitCode !== 0) throw new Error(`the guest script exited ${r.exitCode}:\n${r.console}`);
    if (text("cap/modtrace.rc").trim() !== "0") throw new Error(`modtrace failed:\n${text("cap/modtrace.err")}`);
    const all = lines("cap/events.json").map((l) => JSON.parse(l));
    events = all.filter((e) => e.finding !== true);
    findings = all.filter((e) => e.finding === true && RULES.includes(e.eventName));
    steps = Object.fromEntries(lines("cap/steps.txt").map((l) => [l.split(" ")[0], Number(l.split(" ")[2])]));
  }, 960_000);

  test(`every capture ran with --attach ${mode}`, () => {
    for (const dir of ["cap", "taint", "pre", "helper", "hidden-hook"]) expect(text(`${dir}/modtrace.err`)).toContain(`(${SYSCALL_HOOK[mode]})`);
  });

  test("every module loaded, and each does what it claims in the kernel", () => {
    expect(steps).toEqual({ "insmod-dummy": 0, modprobe: 0, "rmmod-dummy": 0, plain: 0, "hide-list": 0, "hide-kobj": 0, "hide-both": 0, "hook-table": 0, "hook-dispatch": 0, "hook-ia32": 0, "hook-ftrace": 0, "kprobe-hook": 0 });
    const listed = lines("proc-modules.txt").map((l) => l.split(" ")[0]);
    const kset = lines("sys-module.txt");
    expect(listed).not.toContain("mt_hide_list");
    expect(kset).toContain("mt_hide_list");
    expect(listed).toContain("mt_hide_kobj");
    expect(kset).not.toContain("mt_hide_kobj");
    expect(listed).not.toContain("mt_hide_both");
    expect(kset).not.toContain("mt_hide_both");
    // The switch, not the table, dispatches on 6.1.192: only the patch shows.
    expect(text("ppid.txt").trim()).toBe("4242");
    // The 32-bit switch's hook answers int 0x80's getppid only.
    const ppid32 = JSON.parse(text("ppid32.txt"));
    expect([ppid32.ret, ppid32.getppid]).toEqual([4242, 4242]);
    // The ftrace hook answers getpgrp; /proc still knows the real group.
    const pgrp = JSON.parse(text("pgrp.txt"));
    expect([pgrp.ret, pgrp.pgid === 4242]).toEqual([4242, false]);
    // Its getdents64 and /proc iterator wrappers pass every call on: ls /proc lists init and itself.
    expect(lines("ls-proc.txt")).toEqual(expect.arrayContaining(["1", "self", "modules"]));
  });

  test("ftrace_hooked: the ftrace callbacks on getpgrp, getdents64 and the /proc iterator are mt_ftrace_hook's, each named with its load as evidence; the dispatch checks see nothing of them", () => {
    const hooked = of("ftrace_hooked");
    expect(hooked.map((f) => [hookedFunction(f), f.moduleName, f.severity, f.details.inPlaceAtStart]).sort()).toEqual([
      ["getdents64", "mt_ftrace_hook", "critical", false], ["getpgrp", "mt_ftrace_hook", "critical", false], ["proc_pid_readdir", "mt_ftrace_hook", "critical", false],
    ]);
    for (const f of hooked) {
      expect(f.details.callback).toContain("[mt_ftrace_hook]");
      expect(f.evidence).toContainEqual(expect.objectContaining({ eventName: "module_load", callId: loadOf("mt_ftrace_hook").callId }));
    }
    expect(of("syscall_hooked").filter((f) => f.moduleName === "mt_ftrace_hook")).toEqual([]);
  });

  test("scan events: the capture logs each ftrace callback and kprobe as it came (after its module's load), and the unloads in the pre capture as they went; nothing else came or went", () => {
    const arg = (e: any, name: string) => e.args.find((a: any) => a.name === name)?.value;
    const scanned = (list: any[], name: string) => list.filter((e) => e.eventName === name);
    const ftrace = (e: any) => [arg(e, "change"), String(arg(e, "symbol")).replace(/^__(do|x64)_sys_/, ""), arg(e, "callback_owner"), /\[mt_ftrace_hook\]$/.test(arg(e, "callback")) || arg(e, "callback")];
    const ftraceLoad = loadOf("mt_ftrace_hook");
    const kprobeLoad = loadOf("mt_kprobe_hook");
    // Each module's callbacks, named, after its load; getdents64's stops
    // showing its owner once mt_kprobe_hook's kprobe (an ftrace ops too) shares it.
    const ftraceEvents = scanned(events, "ftrace_hook");
    expect(ftraceEvents.filter((e) => e.timestamp < kprobeLoad.timestamp).map(ftrace).sort()).toEqual([
      ["added", "getdents64", "mt_ftrace_hook", true], ["added", "getpgrp", "mt_ftrace_hook", true], ["added", "proc_pid_readdir", "mt_ftrace_hook", true],
    ]);
    expect(ftraceEvents.filter((e) => e.timestamp >= kprobeLoad.timestamp).map(ftrace).sort()).toEqual([
      ["added", "getdents64", null, "not shown: 2 ftrace ops share the function, one of them IP-modifying"], ["removed", "getdents64", "mt_ftrace_hook", true],
    ]);
    for (const e of ftraceEvents) expect(e.timestamp).toBeGreaterThan(ftraceLoad.timestamp);
    // Each hook module finds kallsyms_lookup_name through a kprobe it
    // registers and removes in its init (tests/vm/modules/mt_lookup.h, the
    // rootkits' way): a scan that falls in between sees it come and go.
    const lookups = scanned(events, "kprobe_hook").filter((e) => arg(e, "symbol") === "kallsyms_lookup_name+0x0");
    expect(lookups.map((e) => arg(e, "change"))).toEqual(lookups.map((_, i) => (i % 2 ? "removed" : "added")));
    const probes = scanned(events, "kprobe_hook").filter((e) => !lookups.includes(e));
    expect(probes.map((e) => [arg(e, "change"), arg(e, "symbol"), arg(e, "probe_type")])).toEqual([["added", "__x64_sys_getdents64+0x0", "kprobe"]]);
    expect(probes[0].timestamp).toBeGreaterThan(kprobeLoad.timestamp);
    expect(arg(probes[0], "address")).toBeGreaterThan(0);
    // No process is behind them: no identity, no context, the scan's hook.
    for (const e of [...ftraceEvents, ...probes]) expect([e.hook, e.hostProcessId, e.processName, e.ancestors]).toEqual(["scan", 0, "", undefined]);
    // No BPF program came or went: modtrace's own (and its probes' stubs) are no news.
    expect(scanned(events, "bpf_program")).toEqual([]);
    // Unloaded during the pre capture: its callbacks go (getdents64's unnamed one with the kprobe left alone).
    const pre = lines("pre/events.json").map((l) => JSON.parse(l)).filter((o) => o.finding !== true);
    expect(scanned(pre, "ftrace_hook").map(ftrace).sort()).toEqual([
      ["removed", "getdents64", null, "not shown: 2 ftrace ops share the function, one of them IP-modifying"], ["removed", "getpgrp", "mt_ftrace_hook", true], ["removed", "proc_pid_readdir", "mt_ftrace_hook", true],
    ]);
    // Seen after the last finding the guest waited for before its rmmods (a
    // syscall's own timestamp is its return in raw mode: after the hook went).
    const waited = lines("pre/events.json").map((l) => JSON.parse(l)).find((o) => o.finding === true && o.eventName === "hidden_module" && o.details.view === "module_memory");
    for (const e of scanned(pre, "ftrace_hook")) expect(e.timestamp).toBeGreaterThan(waited.timestamp);
    expect(scanned(pre, "kprobe_hook").filter((e) => arg(e, "symbol") !== "kallsyms_lookup_name+0x0")).toEqual([]);
  });

  test("hidden_module: once for mt_hide_list (not in the module list), once for mt_hide_kobj (not in /sys/module), once for mt_hide_both (in neither), by name: the capture saw it load, so its memory is not reported again", () => {
    const hidden = of("hidden_module");
    expect(hidden.map((f) => [f.moduleName, f.details.lacking, f.details.view ?? null]).sort()).toEqual([
      ["mt_hide_both", "both", null], ["mt_hide_kobj", "module_kset", null], ["mt_hide_list", "module_list", null],
    ]);
    for (const f of hidden) {
      expect(f.severity).toBe("critical");
      expect(f.evidence).toContainEqual(expect.objectContaining({ eventName: "module_load", callId: loadOf(f.moduleName).callId }));
    }
  });

  test("syscall_hooked during the capture: table entry 110 (getppid) naming mt_hook_table, the switch naming mt_hook_dispatch, the 32-bit switch naming mt_hook_ia32; no baseline change on top", () => {
    const hooked = of("syscall_hooked");
    expect(hooked.map((f) => [f.details.where, f.details.syscall, number(f), f.details.expected, f.moduleName, f.details.inPlaceAtStart]).sort()).toEqual([
      ["ia32_sys_call", "a 32-bit syscall", "offset", "its __ia32_sys_* handler", "mt_hook_ia32", false],
      ["sys_call_table", "getppid", 110, "__x64_sys_getppid", "mt_hook_table", false],
      ["x64_sys_call", "getppid", 110, "__x64_sys_getppid", "mt_hook_dispatch", false],
    ]);
    for (const f of hooked) {
      expect(f.severity).toBe("critical");
      expect(f.details.targetModules).toEqual([f.moduleName]);
      expect(f.details.actual).toEqual([expect.stringContaining(`[${f.moduleName}]`)]);
      expect(f.evidence).toContainEqual(expect.objectContaining({ eventName: "module_load", callId: loadOf(f.moduleName).callId }));
    }
    expect(of("syscall_dispatch_changed")).toEqual([]);
    expect(of("syscall_hook_removed")).toEqual([]);
  });

  test("hooks in place before the capture: found by its first scan; their unload is syscall_hook_removed, and getppid is itself again", () => {
    expect(text("pre/modtrace.rc").trim()).toBe("0");
    const pre = lines("pre/steps.txt").map((l) => l.split(" "));
    expect(pre.map(([name, , rc]) => [name, rc])).toEqual([["unhook-ftrace", "0"], ["unhook-ia32", "0"], ["unhook-dispatch", "0"], ["unhook-table", "0"]]);
    expect(Number(text("ppid-after.txt").trim())).not.toBe(4242);
    const found = lines("pre/events.json").map((l) => JSON.parse(l)).filter((o) => o.finding === true && RULES.includes(o.eventName));
    const view = (f: any) => [f.eventName, f.details.where, f.details.syscall, f.details.expected, f.severity, f.moduleName ?? null, f.details.inPlaceAtStart ?? null];
    for (const f of found.filter((f) => f.eventName === "syscall_dispatch_changed")) console.log(`unexpected: ${f.description}`);
    // getdents64 also has mt_kprobe_hook's kprobe: with two ops on it the kernel shows no callback, so no owner.
    expect(found.filter((f) => f.eventName === "ftrace_hooked").map((f) => [hookedFunction(f), f.moduleName ?? null, f.severity, f.details.case ?? null, f.details.inPlaceAtStart]).sort()).toEqual([
      ["getdents64", null, "high", "owner_hidden", true], ["getpgrp", "mt_ftrace_hook", "critical", null, true], ["proc_pid_readdir", "mt_ftrace_hook", "critical", null, true],
    ]);
    // The hiders in place before it began; mt_hide_both, in no view by name, by its memory.
    expect(found.filter((f) => f.eventName === "hidden_module").map((f) => [f.moduleName ?? null, f.details.lacking, f.details.view ?? null]).sort()).toEqual([
      [null, "both", "module_memory"], ["mt_hide_kobj", "module_kset", null], ["mt_hide_list", "module_list", null], ["mt_hide_staging", "module_list", null],
    ]);
    expect(found.filter((f) => f.eventName !== "hidden_module" && f.eventName !== "ftrace_hooked").map(view).sort()).toEqual([
      ["syscall_hook_removed", "ia32_sys_call", "a 32-bit syscall", "its __ia32_sys_* handler", "high", null, null],
      ["syscall_hook_removed", "sys_call_table", "getppid", "__x64_sys_getppid", "high", null, null],
      ["syscall_hook_removed", "x64_sys_call", "getppid", "__x64_sys_getppid", "high", null, null],
      ["syscall_hooked", "ia32_sys_call", "a 32-bit syscall", "its __ia32_sys_* handler", "critical", "mt_hook_ia32", true],
      ["syscall_hooked", "sys_call_table", "getppid", "__x64_sys_getppid", "critical", "mt_hook_table", true],
      ["syscall_hooked", "x64_sys_call", "getppid", "__x64_sys_getppid", "critical", "mt_hook_dispatch", true],
      // mt_hide_staging's C, there at the start: the module that carries it hides from the list.
      ["taint_unexplained", undefined, undefined, undefined, "medium", null, true],
    ]);
  });

  test("modtrace scan of the clean guest: every listed module, each file as its package installed it, signed; no finding, exit 0", () => {
    const scan = JSON.parse(text("scan-clean.json"));
    expect([text("scan-clean.rc").trim(), scan.findings]).toEqual(["0", []]);
    const listed = lines("proc-modules-clean.txt").map((l) => l.split(" ")[0]).sort();
    expect(scan.modules.map((m: any) => m.name).sort()).toEqual(listed);
    expect(listed).toEqual(expect.arrayContaining(["8021q", "dummy", "garp", "mrp", "stp", "llc"]));
    for (const m of scan.modules) {
      expect([m.name, m.file.package, m.file.packageMatches, m.signature]).toEqual([m.name, prepared.kernelPackage, true, "signed"]);
      expect(m.file.path).toStartWith(`/lib/modules/${prepared.kernelVersion}/`);
    }
    expect(text("scan-clean.err")).toMatch(/scanned \d+ modules and 7 of 7 kernel checks in [\d.]+ s: no findings/);
    console.log(`vm: modtrace scan took ${scan.seconds} s on the clean guest (TCG)`);
    // What each check's look costs: a capture repeats it every --scan-interval (printed, not asserted: TCG is noisy).
    console.log(`vm: the checks' setup ${scan.timings.setupSeconds} s; one look each: ${scan.timings.checks.map((c: any) => `${c.rule} ${c.secondsPerScan} s`).join(", ")}`);
    expect(scan.timings.checks.length).toBe(scan.checked.length);
    for (const c of scan.timings.checks) expect(scan.checked.flat()).toContain(c.rule);
  });

  test("modtrace scan with the rootkit in place: each hook, each hider, the unexplained taint, the modules from outside the tree and the changed file; exit 3", () => {
    const scan = JSON.parse(text("scan-rootkit.json"));
    expect(text("scan-rootkit.rc").trim()).toBe("3");
    const what = (f: any) => [f.eventName, f.severity, f.moduleName ?? null, f.details.where ?? f.details.lacking ?? f.details.letter ?? (f.details.function ? hookedFunction(f) : null)];
    expect(scan.findings.map(what).sort()).toEqual(
      [
        ["syscall_hooked", "critical", "mt_hook_table", "sys_call_table"],
        ["syscall_hooked", "critical", "mt_hook_dispatch", "x64_sys_call"],
        ["syscall_hooked", "critical", "mt_hook_ia32", "ia32_sys_call"],
        ["ftrace_hooked", "high", null, "getdents64"],
        ["ftrace_hooked", "critical", "mt_ftrace_hook", "getpgrp"],
        ["ftrace_hooked", "critical", "mt_ftrace_hook", "proc_pid_readdir"],
        ["hidden_module", "critical", "mt_hide_list", "module_list"],
        ["hidden_module", "critical", "mt_hide_kobj", "module_kset"],
        ["hidden_module", "critical", "mt_hide_staging", "module_list"],
        ["hidden_module", "critical", null, "both"],
        ["taint_unexplained", "medium", null, "C"],
        ["module_file_changed", "high", "8021q", null],
        ["kprobe_on_sensitive", "high", "mt_kprobe_hook", "getdents64"],
        ...["mt_plain", "mt_hide_kobj", "mt_hook_table", "mt_hook_dispatch", "mt_hook_ia32", "mt_ftrace_hook", "mt_kprobe_hook"].map((m) => ["module_without_file", "medium", m, null]),
      ].sort(),
    );
    for (const f of scan.findings.filter((f: any) => f.eventName === "syscall_hooked")) expect(f.details.inPlaceAtStart).toBe(true);
    // The kprobe's owner, from the kernel's table of probes: the module's own pre-handler.
    const probe = scan.findings.find((f: any) => f.eventName === "kprobe_on_sensitive");
    expect([probe.details.case, probe.details.owners]).toEqual(["module", [{ owner: "mt_kprobe_hook", handler: expect.stringMatching(/^mt_kprobe_hook_pre(\+0x0)?.* \[mt_kprobe_hook\]$/) }]]);
    const changed = scan.findings.find((f: any) => f.eventName === "module_file_changed");
    expect(changed.details.package).toBe(prepared.kernelPackage);
    expect(changed.details.md5).not.toBe(changed.details.packageMd5);
    // mt_hide_both, found by its memory: the module loader's area, of its core's size.
    const memory = scan.findings.find((f: any) => f.eventName === "hidden_module" && f.details.view === "module_memory");
    expect(memory.details.allocator).toMatch(/^(load_module|move_module)\+/);
    expect(memory.details.areaBytes % 4096).toBe(0);
    expect(memory.details.areaBytes).toBeGreaterThan(0);
    // The hidden from the list are not in its inventory; the rest are, as /proc/modules has them.
    expect(scan.modules.map((m: any) => m.name)).not.toContain("mt_hide_list");
    expect(scan.modules.find((m: any) => m.name === "mt_plain")).toMatchObject({ taints: "OE", signature: "unsigned", file: { why: "modules.dep names no file for it" } });
  });

  test("a hook whose module then hid: the capture that saw it load names it; a later scan says no listed module owns the code, and names no other", () => {
    expect(text("hidden-hook/modtrace.rc").trim()).toBe("0");
    const found = lines("hidden-hook/events.json").map((l) => JSON.parse(l)).filter((o) => o.finding === true);
    const getsid = (fs: any[]) => fs.filter((f) => f.eventName === "syscall_hooked" && f.details.syscall === "getsid");
    expect(getsid(found).map((f) => [f.details.where, f.moduleName, f.details.targetModules])).toEqual([["sys_call_table", "mt_hook_hidden", ["mt_hook_hidden"]]]);
    // Told by the code range its module_load recorded, not by it being the one module gone from the list.
    expect(getsid(found)[0].details.actual).toEqual([expect.stringContaining("in the code of module mt_hook_hidden, which this capture saw load")]);
    expect(found.filter((f) => f.eventName === "hidden_module" && f.moduleName === "mt_hook_hidden").map((f) => [f.details.lacking, f.details.loadedInCapture])).toEqual([["module_list", true]]);
    const scan = JSON.parse(text("scan-hidden.json"));
    expect(text("scan-hidden.rc").trim()).toBe("3");
    const [hook] = getsid(scan.findings);
    expect([hook.moduleName ?? null, hook.details.targetModules]).toEqual([null, []]);
    expect(hook.details.actual).toEqual([expect.stringContaining("in module memory no listed module owns (a module hidden from the module list)")]);
    expect(scan.findings.filter((f: any) => f.eventName === "hidden_module").map((f: any) => f.moduleName)).toContain("mt_hook_hidden");
  });

  test("no kernel finding names an ordinary module", () => {
    const ordinary = ["dummy", "8021q", "garp", "mrp", "stp", "llc", "mt_plain"];
    expect(findings.filter((f) => ordinary.includes(f.moduleName))).toEqual([]);
    expect(findings.length).toBe(9);
  });

  test("modprobe_path_changed: a helper in place before the capture, then another set during it; both critical, each once, read through both views", () => {
    expect(text("helper/modtrace.rc").trim()).toBe("0");
    const found = lines("helper/events.json").map((l) => JSON.parse(l)).filter((o) => o.finding === true && RULES.includes(o.eventName));
    const helper = found.filter((f) => f.eventName === "modprobe_path_changed");
    expect(helper.map((f) => [f.details.path, f.details.inPlaceAtStart, f.details.atStart, f.details.view, f.details.secondView, f.severity])).toEqual([
      ["/tmp/mt-helper", true, "/tmp/mt-helper", "sysctl and kcore", "kcore", "critical"],
      ["/dev/shm/mt-helper", false, "/tmp/mt-helper", "sysctl and kcore", "kcore", "critical"],
      ["/sbin/modprobe", false, "/tmp/mt-helper", "package", "kcore", "critical"],
    ]);
    // The stock helper's file changed on disk: held against kmod's record (this machine's md5sums).
    const record = readFileSync("/var/lib/dpkg/info/kmod.md5sums", "utf8").split("\n").find((l) => l.endsWith("  bin/kmod"))!.split(" ")[0];
    expect([helper[2].details.file, helper[2].details.package, helper[2].details.md5, helper[2].details.packageMd5]).toEqual(["/bin/kmod", "kmod", text("helper/kmod-changed.md5").trim(), record]);
    expect(text("modprobe-after.txt").trim()).toBe("/sbin/modprobe"); // put back for what follows
  });

  test("kernel_ran_program: an autoload while the helper is pointed elsewhere; the kernel runs it as root once per name it asks under, each critical, tied to its request, the script's sha256 the guest's", () => {
    const all = lines("helper/events.json").map((l) => JSON.parse(l));
    const ran = all.filter((o) => o.finding === true && o.eventName === "kernel_ran_program");
    const asked = ["net-pf-2-proto-33-type-6", "net-pf-2-proto-33"];
    // What the helper itself saw as its arguments, each time it ran.
    expect(text("helper/helper.ran").trim().split("\n")).toEqual(asked.map((name) => `-q -- ${name}`));
    expect(ran.map((f) => [f.severity, f.details.request, f.details.pathname, f.details.argv, f.details.sha256])).toEqual(
      asked.map((name) => ["critical", name, "/dev/shm/mt-helper", `/bin/sh /dev/shm/mt-helper -q -- ${name}`, text("helper/helper.sha256").trim()]),
    );
    // The caller that made the kernel ask, not the helper, is the actor; the request is the first evidence.
    for (const f of ran) {
      expect([f.userId, f.processName]).toEqual([65534, "mt-trigger"]);
      expect(f.evidence.map((e: any) => e.eventName)).toEqual(["module_request", "call_usermodehelper"]);
    }
    const helpers = all.filter((o) => o.finding !== true && o.eventName === "call_usermodehelper");
    expect(helpers.length).toBe(2);
    for (const e of helpers) expect(e.ancestors[0].processName).toStartWith("kworker");
  });

  test("taint_unexplained: a staging module loaded unseen (no module_load captured) that hides: the new C bit, and the views alone show it hidden", () => {
    expect(text("taint/modtrace.rc").trim()).toBe("0");
    const all = lines("taint/events.json").map((l) => JSON.parse(l));
    const found = all.filter((o) => o.finding === true && RULES.includes(o.eventName));
    const taint = found.filter((f) => f.eventName === "taint_unexplained");
    expect(taint.map((f) => [f.severity, f.details.letter, f.details.bit])).toEqual([["high", "C", 10]]);
    const hidden = found.filter((f) => f.eventName === "hidden_module");
    // The views alone: the first capture's hidden modules are still hidden,
    // and the new one; mt_hide_both, in neither view, by its memory.
    expect(hidden.map((f) => [f.moduleName ?? null, f.details.lacking, f.details.loadedInCapture ?? null, f.details.view ?? null]).sort()).toEqual([
      [null, "both", null, "module_memory"], ["mt_hide_kobj", "module_kset", false, null], ["mt_hide_list", "module_list", false, null], ["mt_hide_staging", "module_list", false, null],
    ]);
    // The first capture saw every module_load its modules carried: no unexplained taint there.
    expect(of("taint_unexplained")).toEqual([]);
  });
});
}
