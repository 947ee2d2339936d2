// doctor's hook verdicts (a stub of each program type loaded and attached)
// against what capture really gets from the kernel, and capture's fallback
// when a mode fails to load or attach. Two test hooks let the kernel, not the
// probes, decide: MODTRACE_TEST_TRY_EVERY_MODE=1 keeps the modes the probes
// rejected, MODTRACE_TEST_REJECT_PROGRAMS makes the kernel refuse programs.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Capture, doctorReport, jsonLines, scratchDir, trigger, TRIGGER } from "./harness";
import { cborItems } from "../lib/cbor";
import { runModtrace } from "../lib/modtrace";

const TRY_EVERY_MODE = { MODTRACE_TEST_TRY_EVERY_MODE: "1" };
const SYSCALLS = "init_module,finit_module,delete_module";
const MODES = [
  { mode: "fentry", check: "fentry", hook: "fentry/fexit" },
  { mode: "kprobe", check: "kprobes", hook: "ksyscall kprobe/kretprobe" },
  { mode: "raw", check: "raw tracepoints", hook: "raw_syscalls sys_exit" },
];

const doctor = doctorReport;
const verdict = (report: any, check: string) => report.checks.find((c: any) => c.what === check);

describe("hook probes and capture-time fallback", () => {
  test("each hook verdict is yes, no or cannot tell, with a reason unless yes", () => {
    for (const { check } of MODES) {
      const c = verdict(doctor(), check);
      expect([true, false, null]).toContain(c.ok);
      expect(c.detail.length).toBeGreaterThan(0);
      if (c.ok === null) expect(c.detail).toStartWith("cannot tell: ");
    }
  });

  // Where the PMU exists only a capture can tell (the next tests): skipped, visibly, there.
  test.skipIf(existsSync("/sys/bus/event_source/devices/kprobe"))("a kernel without the kprobe PMU gets kprobes: no", () => {
    const c = verdict(doctor(), "kprobes");
    expect(c.ok).toBe(false);
    expect(c.detail).toContain("no kprobe PMU");
  });

  // The kernel decides here: the plan keeps every mode, so a wrong verdict
  // (a no where capture works, a yes where it does not) fails the test.
  for (const { mode, check, hook } of MODES)
    test(`doctor's ${check} verdict is whether --attach ${mode} really captures`, () => {
      const c = verdict(doctor(), check);
      const run = runModtrace(["--attach", mode, "-e", SYSCALLS, "--no-hash", "--no-findings", "-o", "json", "--duration", "1"], {
        env: { ...process.env, ...TRY_EVERY_MODE },
        timeout: 120_000,
      });
      const stderr = run.stderr;
      if (c.ok === null) return; // cannot tell: nothing to hold capture to
      if (c.ok) {
        expect(run.exitCode).toBe(0);
        expect(stderr).toContain(`capturing init_module, finit_module, delete_module (${hook})`);
      } else {
        expect(run.exitCode).toBe(1);
        expect(stderr).toContain("could not start capturing");
      }
    });

  test("a mode that fails to load falls back to the next, the other programs stay, and capture says which and why", async () => {
    const report = doctor();
    // fentry refused on purpose, so this falls back on any kernel; then the
    // first of kprobe and raw that doctor says works is where the events land.
    const landing = MODES.slice(1).find((m) => verdict(report, m.check).ok === true);
    if (!landing) throw new Error("doctor finds neither kprobes nor raw tracepoints: capture cannot run here");
    const rejected = ["fentry_init_module", "fentry_finit_module", "fentry_delete_module", "fexit_init_module", "fexit_finit_module", "fexit_delete_module"];
    const log = join(scratchDir(), "log.cbor");
    // --attach auto: the fallback order is auto's, whatever MODTRACE_ATTACH pins.
    const capture = await Capture.start(["--attach", "auto", "-e", SYSCALLS, "--no-hash", "--no-findings", "--comm", "mt-trigger", "-o", "json", "-o", `cbor:${log}`], {
      ...TRY_EVERY_MODE,
      MODTRACE_TEST_REJECT_PROGRAMS: rejected.join(","),
    });
    const [truth] = trigger("thread");
    const done = await capture.stop();
    const line = done.stderr.split("\n").find((l) => l.includes(" fell back to "));
    expect(line).toStartWith(`modtrace: init_module, finit_module, delete_module fell back to ${landing.hook}: fentry: loading fentry_`);
    // Every mode tried before the landing one is named with why it failed.
    for (const m of MODES.slice(0, MODES.indexOf(landing))) expect(line).toContain(`${m.mode}: `);
    expect(done.stderr).toContain(`capturing init_module, finit_module, delete_module (${landing.hook})`);
    // The log's header keeps it too.
    const [header] = cborItems(readFileSync(log));
    expect(header.hooks.delete_module).toBe(landing.hook);
    expect(header.fellBack.delete_module).toStartWith("fentry: loading fentry_");
    const [event] = jsonLines(done.stdout);
    expect(event).toMatchObject({ eventName: truth.call, threadId: truth.tid, returnValue: truth.ret });
  });

  test("where no mode is left, the event is unavailable with every mode's failure, and the others keep working", () => {
    const report = doctor();
    // The raw programs refused: syscall events on raw have nothing left; a
    // tracepoint event (module_request) keeps its own program where it has one.
    const run = runModtrace(["--attach", "raw", "-e", `${SYSCALLS},module_request`, "--no-hash", "--no-findings", "-o", "json", "--duration", "1"], {
      env: { ...process.env, MODTRACE_TEST_REJECT_PROGRAMS: "on_sys_exit" },
      timeout: 120_000,
    });
    const stderr = run.stderr;
    if (report.plan.planned.some((p: any) => p.event === "module_request")) {
      expect(run.exitCode).toBe(0);
      expect(stderr).toContain("delete_module unavailable: raw: loading on_sys_exit failed: ");
      expect(stderr).toContain("capturing module_request (tracepoint module:module_request)");
    } else {
      expect(run.exitCode).toBe(1);
      expect(stderr).toContain("could not start capturing: no event could be attached: ");
      expect(stderr).toContain("delete_module (raw: loading on_sys_exit failed: ");
    }
  });
});

describe("doctor and capture agree", () => {
  for (const mode of ["auto", "fentry", "kprobe", "raw"])
    test(`--attach ${mode}: doctor says capture can run exactly when a capture with it starts`, () => {
      const doctor = runModtrace(["doctor", "--attach", mode], { timeout: 60_000 });
      const capture = runModtrace(["--attach", mode, "--comm", "mt-nothing", "--duration", "0.2", "--no-findings", "-o", "json"], { timeout: 60_000 });
      expect([mode, doctor.exitCode === 0]).toEqual([mode, capture.exitCode === 0]);
      expect(doctor.stdout).toContain(doctor.exitCode === 0 ? "modtrace capture can run here" : "modtrace capture cannot run here");
    });
});

test("doctor's 32-bit entry: open exactly when an int 0x80 call answers on this machine", () => {
  const entry = doctorReport().checks.find((c: any) => c.what === "32-bit entry").detail as string;
  const call = Bun.spawnSync([TRIGGER, "int80", "getppid"], { stdout: "pipe", stderr: "pipe" });
  if (entry.startsWith("none")) return; // no IA32_EMULATION: nothing to try
  // The trigger dies of a signal where the gate is refused, and answers where it is open.
  const refused = call.exitCode !== 0;
  expect(entry.includes("the 32-bit door is shut")).toBe(refused);
  if (!refused) expect(entry).toContain("IA32_EMULATION:");
});
