// The vm tier, every way in, as a caller who wants to go unseen would try:
// - the module syscalls made through the 32-bit entry (int 0x80, which any
//   x86-64 process may use where the kernel has IA32_EMULATION, as Debian's
//   does) are recorded in every attach mode like the 64-bit ones, marked
//   compat, with the image's sha256 and the module_load of the same call;
//   i386 calls whose numbers are x86_64's module syscalls (rt_sigprocmask
//   175, rt_sigpending 176, splice 313) are never taken for module calls;
// - a module file with no name (unlinked, O_TMPFILE) or on a private mount
//   over the module directory is flagged and judged unusual whatever its
//   path looks like; an fd swapped under a load is caught where the fd is
//   read after the kernel's read (raw mode, --read-at exit): the record keeps
//   the inode the kernel read, and file_swapped says so;
// - kexec, the other door for kernel code: the guest's own kernel staged by
//   kexec_file_load with the sha256 of the file the kernel read, and
//   kernel_staged (high: not kexec-tools, not /boot); unstaging through both
//   entries recorded and judged nothing.
// The expected hash and inodes come from the kernel package's file on the
// host and from stat in the guest, never from modtrace.
// tests/vm/ways-in-guest.sh runs in the guest.
import { beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CACHE, guestScript, outputText, prepare, REPO, runInVm, vmCannotRun, type VmResult } from "./run";

const MODES = ["fentry", "kprobe", "raw"] as const;
const HOOK = { fentry: "fentry", kprobe: "kprobe", raw: "raw_syscalls" };
const NOISE_CALLS = 2000;

const cannotRun = vmCannotRun();
if (cannotRun && process.env.CI !== "true") console.log(`vm tests skipped: ${cannotRun}`);

let r: VmResult;
let kver: string;
let dummy: { sha256: string; size: number; path: string };
let vmlinuz: { sha256: string; size: number };
const text = (name: string) => outputText(r, name);
const arg = (e: any, name: string) => e.args.find((a: any) => a.name === name)?.value;
/** stat's inode numbers in the guest: "slow N decoy M". */
const inodes = () => {
  const [, slow, , decoy] = text("inodes.txt").trim().split(" ");
  return { slow: Number(slow), decoy: Number(decoy) };
};

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

describe.skipIf(!!cannotRun && process.env.CI !== "true")("every way in, in a Debian 6.1 VM", () => {
  beforeAll(async () => {
    if (cannotRun) throw new Error(`the vm tier cannot run here: ${cannotRun}`);
    const prep = prepare();
    kver = prep.kernelVersion;
    const built = Bun.spawnSync([join(REPO, "tests/vm/modules/build.sh")], { stdout: "inherit", stderr: "inherit" });
    if (built.exitCode !== 0) throw new Error("tests/vm/modules/build.sh failed");
    const path = `/lib/modules/${kver}/kernel/drivers/net/dummy.ko`;
    const bytes = readFileSync(join(prep.modulesDir, "kernel/drivers/net/dummy.ko"));
    dummy = { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length, path };
    const kernel = readFileSync(prep.vmlinuz);
    vmlinuz = { sha256: createHash("sha256").update(kernel).digest("hex"), size: kernel.length };
    r = await runInVm({
      script: guestScript("ways-in-guest.sh", { MODES: MODES.join(" ") }),
      files: {
        "/root/trigger": join(REPO, "tests/trigger"),
        "/root/mt_slow_init.ko": join(DEFAULT_CACHE, "modules", kver, "mt_slow_init.ko"),
        "/root/mt_init_fails.ko": join(DEFAULT_CACHE, "modules", kver, "mt_init_fails.ko"),
        "/root/vmlinuz": prep.vmlinuz,
      },
      timeoutSec: 900,
    });
    console.log(`vm: booted ${kver} and ran the ways-in scenarios in ${r.seconds.toFixed(1)} s`);
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

      /** The finit_module of a trigger step, and the findings that name its call. */
      const loadOf = (step: string) => {
        expect(c.steps[step].out).toMatchObject({ call: "finit_module", ret: 0 });
        const calls = c.events.filter((e) => e.hostProcessId === c.steps[step].pid && e.eventName === "finit_module");
        expect(calls.length).toBe(1);
        const findings = c.findings.filter((f) => f.evidence.some((x: any) => x.callId === calls[0].callId));
        return { call: calls[0], findings: findings.map((f) => `${f.eventName} ${f.severity}`).sort(), text: findings.map((f) => f.description).join("\n") };
      };

      test("a load from a file unlinked first: fileUnlinked, and unusual_load_path (high), whatever the path", () => {
        const l = loadOf("unlinked");
        expect([l.call.fileUnlinked, l.call.fileOtherMount, l.call.fileSwapped, l.call.sha256]).toEqual([true, undefined, undefined, dummy.sha256]);
        expect(l.findings).toContain("unusual_load_path high");
        expect(l.text).toContain("no name left");
      });

      test("a load from an O_TMPFILE: fileUnlinked, and unusual_load_path (high)", () => {
        const l = loadOf("tmpfile");
        expect([l.call.fileUnlinked, l.call.sha256]).toEqual([true, dummy.sha256]);
        expect(l.findings).toContain("unusual_load_path high");
      });

      test("a load from a private mount over the module directory: the path looks right, fileOtherMount says it is not", () => {
        const l = loadOf("private");
        expect(arg(l.call, "pathname")).toBe(dummy.path);
        expect([l.call.fileOtherMount, l.call.fileUnlinked, l.call.sha256]).toEqual([true, undefined, dummy.sha256]);
        expect(l.findings).toContain("unusual_load_path medium");
        expect(l.text).toContain("outside the host's mount namespace");
      });

      test(mode === "raw" ? "an fd swapped after the kernel's read: the inode read, fileSwapped, and file_swapped (high)" : "an fd swapped after the kernel's read: read at entry, the path is the file's", () => {
        const l = loadOf("swap");
        expect(arg(l.call, "inode")).toBe(inodes().slow);
        if (mode === "raw") {
          // The fd is read at the exit, when it names the decoy.
          expect([arg(l.call, "pathname"), l.call.fileSwapped]).toEqual([dummy.path, true]);
          expect(l.findings).toContain("file_swapped high");
        } else {
          expect([arg(l.call, "pathname"), l.call.fileSwapped]).toEqual(["/root/mt_slow_init.ko", undefined]);
          expect(l.findings.filter((f) => f.startsWith("file_swapped"))).toEqual([]);
        }
      });

      test("an unsigned out-of-tree module whose init fails: untrusted_init_failed (high), with the load and the init as evidence", () => {
        expect(c.steps["init-fails"].rc).not.toBe(0);
        const [call] = c.events.filter((e) => e.hostProcessId === c.steps["init-fails"].pid && e.eventName === "finit_module");
        const init = c.events.filter((e) => e.eventName === "do_init_module" && e.callId === call.callId);
        expect(init.map((e) => [arg(e, "name"), e.returnValue])).toEqual([["mt_init_fails", -19]]);
        const found = c.findings.filter((f) => f.eventName === "untrusted_init_failed");
        expect(found.map((f) => [f.severity, f.moduleName, f.evidence.map((x: any) => x.eventName).join()])).toEqual([["high", "mt_init_fails", "module_load,do_init_module"]]);
        expect(found[0].evidence.every((x: any) => x.callId === call.callId)).toBe(true);
      });

      test("kexec_file_load of the guest's kernel: staged (return 0), the file and its sha256, cmdline and flags, and kernel_staged (high)", () => {
        const step = c.steps["kexec-file"];
        expect(step.out).toMatchObject({ call: "kexec_file_load", ret: 0, flags: 4 });
        const calls = c.events.filter((e) => e.hostProcessId === step.pid && e.syscall);
        expect(calls.map((e) => [e.eventName, e.hook, e.returnValue, e.compat])).toEqual([["kexec_file_load", HOOK[mode], 0, undefined]]);
        const [call] = calls;
        expect([arg(call, "pathname"), arg(call, "cmdline"), arg(call, "kernel_fd"), arg(call, "initrd_fd")]).toEqual(["/root/vmlinuz", "console=ttyS0 mt-staged", step.out.kernel_fd, -1]);
        expect(call.args.find((a: any) => a.name === "flags")).toMatchObject({ value: 4, decoded: "KEXEC_FILE_NO_INITRAMFS" });
        expect({ sha256: call.sha256, size: call.size }).toEqual(vmlinuz);
        const staged = c.findings.filter((f) => f.eventName === "kernel_staged");
        expect(staged.map((f) => [f.severity, f.evidence[0].callId, f.details.sha256, f.details.path])).toEqual([["high", call.callId, vmlinuz.sha256, "/root/vmlinuz"]]);
        expect(staged[0].details.unknownBecause).toContain("is not kexec-tools");
      });

      test("unstaging through kexec_file_load and kexec_load, 64- and 32-bit: recorded, return 0, no finding", () => {
        const of = (step: string) => c.events.filter((e) => e.hostProcessId === c.steps[step].pid && e.syscall);
        for (const step of ["kexec-file-unload", "kexec-unload", "kexec-unload32"]) expect(c.steps[step].out.ret).toBe(0);
        expect(of("kexec-file-unload").map((e) => [e.eventName, e.returnValue, arg(e, "flags")])).toEqual([["kexec_file_load", 0, 1]]);
        expect(of("kexec-unload").map((e) => [e.eventName, e.returnValue, arg(e, "nr_segments"), e.compat])).toEqual([["kexec_load", 0, 0, undefined]]);
        expect(of("kexec-unload32").map((e) => [e.eventName, e.returnValue, arg(e, "nr_segments"), e.compat])).toEqual([["kexec_load", 0, 0, true]]);
        expect(c.findings.filter((f) => f.eventName === "kernel_staged").length).toBe(1); // the staging above, only
      });

      test("the same calls through the 64-bit entry carry no compat key", () => {
        const of = (step: string) => c.events.filter((e) => e.hostProcessId === c.steps[step].pid && e.syscall);
        expect(of("insmod64").map((e) => [e.eventName, e.compat, e.returnValue, e.sha256])).toEqual([["finit_module", undefined, 0, dummy.sha256]]);
        expect(of("rmmod64").map((e) => [e.eventName, e.compat, e.returnValue])).toEqual([["delete_module", undefined, 0]]);
      });
    });
  }

  test("--attach fentry --read-at exit: the swap is caught there too", () => {
    const c = capture("fentry-exit");
    const calls = c.events.filter((e) => e.hostProcessId === c.steps.swap.pid && e.eventName === "finit_module");
    expect(calls.map((e) => [arg(e, "pathname"), arg(e, "inode"), e.fileSwapped, e.returnValue])).toEqual([[dummy.path, inodes().slow, true, 0]]);
    expect(c.findings.filter((f) => f.eventName === "file_swapped" && f.evidence[0].callId === calls[0].callId).length).toBe(1);
  });

  test("an unprivileged flood of autoload requests fills the bulk ring, and costs the load and unload beside it nothing", () => {
    const c = capture("autoload-flood");
    const flood = c.steps.requests;
    expect(flood.out).toMatchObject({ call: "socket", uid: 65534, sockets: 4000 });
    expect(flood.out.ret).toBeLessThan(0); // DCCP never loaded
    const [, bulkLost, priorityLost] = /failed-attempts ring full: (\d+), priority ring full: (\d+)/.exec(c.err)!.map(Number);
    expect(bulkLost).toBeGreaterThan(0); // the flood overflowed the bulk ring
    expect(priorityLost).toBe(0);
    const requests = c.events.filter((e) => e.eventName === "module_request" && e.hostProcessId === flood.pid);
    expect(requests.length).toBeGreaterThan(0);
    // inet_create asks twice per socket (…-proto-33-type-6, then …-proto-33):
    // each request is written or counted lost, none vanishes.
    expect(requests.length + bulkLost).toBe(2 * 4000);
    const [load] = c.events.filter((e) => e.hostProcessId === c.steps.load.pid && e.eventName === "finit_module");
    expect([load?.returnValue, arg(load, "pathname")]).toEqual([0, dummy.path]);
    expect(c.events.filter((e) => e.callId === load.callId && !e.syscall).map((e) => e.eventName).sort()).toEqual(["do_init_module", "module_load"]);
    const [unload] = c.events.filter((e) => e.hostProcessId === c.steps.unload.pid && e.eventName === "delete_module");
    expect(unload?.returnValue).toBe(0);
    expect(c.events.filter((e) => e.callId === unload.callId && e.eventName === "module_free").length).toBe(1);
    console.log(`  autoload flood: ${requests.length} requests written, ${bulkLost} lost in the bulk ring; the load and the unload both there`);
  });
});
