// The vm tier, every way in: the module syscalls made through the 32-bit
// entry (int 0x80, which any x86-64 process may use where the kernel has
// IA32_EMULATION, as Debian's does) are recorded in every attach mode like
// the 64-bit ones, marked compat, with the image's sha256 and the
// module_load of the same call; and i386 calls whose numbers are x86_64's
// module syscalls (rt_sigprocmask 175, rt_sigpending 176, splice 313) are
// never taken for module calls. The expected hash is computed here on the
// host from the kernel package's file, never by modtrace.
// tests/vm/compat-guest.sh runs in the guest.
import { beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { guestScript, outputText, prepare, REPO, runInVm, vmCannotRun, type VmResult } from "./run";

const MODES = ["fentry", "kprobe", "raw"] as const;
const HOOK = { fentry: "fentry", kprobe: "kprobe", raw: "raw_syscalls" };
const NOISE_CALLS = 2000;

const cannotRun = vmCannotRun();
if (cannotRun && process.env.CI !== "true") console.log(`vm tests skipped: ${cannotRun}`);

let r: VmResult;
let kver: string;
let dummy: { sha256: string; size: number; path: string };
const text = (name: string) => outputText(r, name);
const arg = (e: any, name: string) => e.args.find((a: any) => a.name === name)?.value;

interface Capture {
  events: any[];
  findings: any[];
  err: string;
  steps: Record<string, { pid: number; rc: number; out?: any }>;
}

function capture(dir: string): Capture {
  const rc = text(`${dir}/modtrace.rc`).trim();
  const err = text(`${dir}/modtrace.err`);
  if (rc !== "0") throw new Error(`modtrace exited ${rc}; its stderr:\n${err}`);
  const steps: Capture["steps"] = {};
  for (const line of text(`${dir}/steps.txt`).trim().split("\n").filter(Boolean)) {
    const [name, pid, status] = line.split(" ");
    const out = r.outputs[`${dir}/${name}.out`] ? JSON.parse(text(`${dir}/${name}.out`).trim().split("\n").pop()!) : undefined;
    steps[name] = { pid: Number(pid), rc: Number(status), out };
  }
  const all = text(`${dir}/events.json`).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  return { events: all.filter((o) => !o.finding), findings: all.filter((o) => o.finding), err, steps };
}

describe.skipIf(!!cannotRun && process.env.CI !== "true")("the 32-bit entry in a Debian 6.1 VM", () => {
  beforeAll(async () => {
    if (cannotRun) throw new Error(`the vm tier cannot run here: ${cannotRun}`);
    const prep = prepare();
    kver = prep.kernelVersion;
    const path = `/lib/modules/${kver}/kernel/drivers/net/dummy.ko`;
    const bytes = readFileSync(join(prep.modulesDir, "kernel/drivers/net/dummy.ko"));
    dummy = { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length, path };
    r = await runInVm({
      script: guestScript("compat-guest.sh", { MODES: MODES.join(" ") }),
      files: { "/root/trigger": join(REPO, "tests/trigger") },
      timeoutSec: 900,
    });
    console.log(`vm: booted ${kver} and ran the 32-bit entry scenarios in ${r.seconds.toFixed(1)} s`);
    if (r.exitCode !== 0) throw new Error(`the guest script exited ${r.exitCode}:\n${r.console}`);
  }, 960_000);

  test("doctor names the 32-bit entry and what hooks it", () => {
    expect(text("doctor.txt")).toMatch(/^yes\s+32-bit entry\s+IA32_EMULATION: __ia32_sys_\* are hooked beside __x64_sys_\*/m);
  });

  for (const mode of MODES) {
    describe(`--attach ${mode}`, () => {
      let c: Capture;
      beforeAll(() => {
        c = capture(mode);
      });

      test("the trigger's own calls went through the 32-bit entry and worked", () => {
        expect(c.steps.load.out).toMatchObject({ call: "finit_module", entry: "int80", ret: 0 });
        expect(c.steps.unload.out).toMatchObject({ call: "delete_module", entry: "int80", ret: 0 });
        expect(c.steps.noise.out).toMatchObject({ calls: 3 * NOISE_CALLS, unexpected: 0 });
      });

      test("finit_module through int 0x80: compat, return 0, the file's path and sha256, and the module_load of the same call", () => {
        const calls = c.events.filter((e) => e.hostProcessId === c.steps.load.pid && e.syscall);
        expect(calls.map((e) => [e.eventName, e.compat, e.hook, e.returnValue])).toEqual([["finit_module", true, HOOK[mode], 0]]);
        const [call] = calls;
        expect(arg(call, "pathname")).toBe(dummy.path);
        expect({ sha256: call.sha256, size: call.size }).toEqual({ sha256: dummy.sha256, size: dummy.size });
        const load = c.events.filter((e) => e.eventName === "module_load" && e.callId === call.callId);
        expect(load.map((e) => [arg(e, "name"), e.sha256])).toEqual([["dummy", dummy.sha256]]);
      });

      test("delete_module through int 0x80: compat, return 0, the name, and the module_free of the same call", () => {
        const calls = c.events.filter((e) => e.hostProcessId === c.steps.unload.pid && e.syscall);
        expect(calls.map((e) => [e.eventName, e.compat, arg(e, "name"), e.returnValue])).toEqual([["delete_module", true, "dummy", 0]]);
        const free = c.events.filter((e) => e.eventName === "module_free" && e.callId === calls[0].callId);
        expect(free.length).toBe(1);
      });

      test(`${3 * NOISE_CALLS} i386 calls numbered like x86_64's module syscalls: no event, no finding`, () => {
        const pid = c.steps.noise.pid;
        expect(c.events.filter((e) => e.hostProcessId === pid).length).toBe(0);
        expect(c.findings.filter((f) => JSON.stringify(f).includes(`"hostProcessId":${pid}`))).toEqual([]);
      });

      test("the same calls through the 64-bit entry carry no compat key", () => {
        const of = (step: string) => c.events.filter((e) => e.hostProcessId === c.steps[step].pid && e.syscall);
        expect(of("insmod64").map((e) => [e.eventName, e.compat, e.returnValue, e.sha256])).toEqual([["finit_module", undefined, 0, dummy.sha256]]);
        expect(of("rmmod64").map((e) => [e.eventName, e.compat, e.returnValue])).toEqual([["delete_module", undefined, 0]]);
      });
    });
  }
});
