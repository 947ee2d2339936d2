// The vm tier: dist/modtrace, unchanged, inside a VM that boots Debian's 6.1
// kernel (the host runs another kernel: CO-RE at work) with only glibc,
// busybox and kmod beside it, captures real module work in each attach mode.
// tests/vm/smoke-guest.sh runs in the guest; expected values come from the
// guest's record of what it ran (pids, exit statuses), from the kernel
// package's modules (modules.dep, modinfo) and from the trigger, never from
// modtrace.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { cborItems, strictItemCount, withoutSeals } from "../lib/cbor";
import { runModtrace } from "../lib/modtrace";
import { EVENTS } from "../../catalogue/events";
import { guestScript, outputText, xzCopy, prepare, REPO, runInVm, vmCannotRun, type VmResult } from "./run";

const MODES = ["fentry", "kprobe", "raw"] as const;
// smoke-guest.sh runs kprobe mode with --read-at exit, the others with their default.
const SYSCALL_HOOK = { fentry: "fentry/fexit", kprobe: "ksyscall kretprobe", raw: "raw_syscalls sys_exit" };
const HOOK_FIELD = { fentry: "fentry", kprobe: "kprobe", raw: "raw_syscalls" };
const INIT_HOOK = { fentry: "fentry", kprobe: "kprobe", raw: "fentry" }; // --attach raw leaves do_init_module on its best hook

const cannotRun = vmCannotRun();
if (cannotRun && process.env.CI !== "true") console.log(`vm tests skipped: ${cannotRun}`);

const arg = (e: any, name: string) => {
  const a = e.args.find((x: any) => x.name === name);
  if (!a) throw new Error(`${e.eventName} has no argument ${name}: ${JSON.stringify(e.args)}`);
  return a;
};

let r: VmResult;
let kver: string;
let modulesDir: string;

const text = (name: string) => outputText(r, name);
const modinfo = (rel: string, field: string): string | null =>
  spawnSync("modinfo", ["-F", field, join(modulesDir, rel)], { encoding: "utf8" }).stdout.trim() || null;
const depsOf = (rel: string): string[] => {
  const line = readFileSync(join(modulesDir, "modules.dep"), "utf8").split("\n").find((l) => l.startsWith(`${rel}:`));
  if (!line) throw new Error(`${rel} is not in modules.dep`);
  return line.slice(rel.length + 1).trim().split(/\s+/).filter(Boolean);
};

describe.skipIf(!!cannotRun && process.env.CI !== "true")("modtrace in a Debian 6.1 VM", () => {
  beforeAll(async () => {
    if (cannotRun) throw new Error(`the vm tier cannot run here: ${cannotRun}`);
    const prep = prepare();
    kver = prep.kernelVersion;
    modulesDir = prep.modulesDir;
    const dummyXz = xzCopy(modulesDir, "kernel/drivers/net/dummy.ko");
    r = await runInVm({
      script: guestScript("smoke-guest.sh", { MODES: MODES.join(" ") }),
      files: { "/root/trigger": join(REPO, "tests/trigger"), "/root/dummy.ko.xz": dummyXz },
      modules: ["acpi_cpufreq"],
      timeoutSec: 1500, // some 600 s on two shared cores: records with the caller context take longer to decode under emulation
    });
    console.log(`vm: booted ${kver} and ran the scenario in ${MODES.length} attach modes in ${r.seconds.toFixed(1)} s`);
    if (r.exitCode !== 0) throw new Error(`the guest script exited ${r.exitCode}:\n${r.console}`);
  }, 1_560_000);

  test("the image holds no libbpf, libelf or zlib, and modtrace needs none", () => {
    expect(text("forbidden.txt").trim()).toBe("");
    const ldd = text("ldd.txt");
    expect(ldd).toContain("libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6");
    expect(ldd).not.toMatch(/libbpf|libelf|libz\.so|not found/);
  });

  test("doctor: every hook is there on 6.1", () => {
    expect(text("doctor.rc").trim()).toBe("0");
    const doctor = text("doctor.txt");
    expect(doctor).toContain(kver);
    for (const line of ["fentry", "kprobes", "loadable modules", "ring buffer"]) expect(doctor).toMatch(new RegExp(`^yes\\s+${line}`, "m"));
    expect(doctor).not.toContain("unavailable");
  });

  test("flood resistance: unprivileged floods fill the bulk ring, yet every real load and unload is there", () => {
    const steps: Record<string, number> = {};
    for (const line of text("flood/steps.txt").trim().split("\n")) {
      const [name, pid, rc] = line.split(" ");
      expect(Number(rc)).toBe(0);
      steps[name] = Number(pid);
    }
    const all = text("flood/events.json").trim().split("\n").map((l) => JSON.parse(l));
    const events = all.filter((o) => o.finding !== true);
    const err = text("flood/modtrace.err");
    const floods = ["flood/flood1.json", "flood/flood2.json"].map((f) => JSON.parse(text(f)));
    const flooded = floods.reduce((n, f) => n + f.calls, 0);
    const [, lost, bulkLost, priorityLost] = /; (\d+) lost \(failed-attempts ring full: (\d+), priority ring full: (\d+)/.exec(err)!.map(Number);
    expect(bulkLost).toBeGreaterThan(0); // the flood really did overflow
    expect(priorityLost).toBe(0);
    // Every flood call is either written or counted lost: nothing vanishes. The guest
    // counted the flood's events (by hostProcessId) and kept them off the serial line.
    const floodEvents = text("flood/flood-events.txt").trim().split("\n").map((l) => l.split(" ").map(Number));
    expect(floodEvents.map(([pid]) => pid).sort()).toEqual(floods.map((f) => f.pid).sort());
    expect(events.filter((e) => floods.some((f) => f.pid === e.hostProcessId)).length).toBe(0);
    expect(floodEvents.reduce((n, [, count]) => n + count, 0) + lost).toBe(flooded);
    for (let i = 1; i <= 5; i++) {
      const load = events.find((e) => e.eventName === "finit_module" && e.hostProcessId === steps[`load${i}`]);
      expect(load).toMatchObject({ returnValue: 0, moduleName: "dummy" });
      for (const kernel of ["module_load", "do_init_module"])
        expect(events.filter((e) => e.eventName === kernel && e.callId === load.callId).length).toBe(1);
      const unload = events.find((e) => e.eventName === "delete_module" && e.hostProcessId === steps[`unload${i}`]);
      expect(unload).toMatchObject({ returnValue: 0, moduleName: "dummy" });
      expect(events.filter((e) => e.eventName === "module_free" && e.callId === unload.callId).length).toBe(1);
    }
    // The floods are what probing means: nobody's EPERM storm, low (an
    // unprivileged caller raises nothing of medium or above); the root loads
    // and unloads in between are signed stock modules (info at most).
    const findings = all.filter((o) => o.finding === true);
    const probing = findings.filter((f) => f.eventName === "probing" && f.details.userId === 65534);
    expect(probing.length).toBeGreaterThan(0);
    for (const f of probing) expect([f.severity, Object.keys(f.details.errnos)]).toEqual(["low", ["EPERM"]]);
    expect(findings.filter((f) => f.severity !== "info" && !probing.includes(f))).toEqual([]);
    console.log(`  flood: ${flooded} unprivileged calls, ${lost} of them lost in the bulk ring; 5 loads and 5 unloads all there`);
  });

  for (const mode of MODES) {
    describe(`--attach ${mode}`, () => {
      let events: any[];
      let findings: any[];
      const steps: Record<string, { pid: number; rc: number }> = {};
      const byPid = (name: string, step: string) => events.filter((e) => e.eventName === name && e.hostProcessId === steps[step].pid);
      const sameCall = (call: any, name: string) => events.filter((e) => e.eventName === name && e.callId === call.callId);
      const one = (list: any[]) => {
        expect(list.length).toBe(1);
        return list[0];
      };

      beforeAll(() => {
        for (const line of text(`${mode}/steps.txt`).trim().split("\n")) {
          const [name, pid, rc] = line.split(" ");
          steps[name] = { pid: Number(pid), rc: Number(rc) };
        }
        const all = text(`${mode}/events.json`).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
        events = all.filter((o) => o.finding !== true);
        findings = all.filter((o) => o.finding === true);
      });

      test("normal module work is found to be nothing above info; root's burst of failed unloads is probing, info", () => {
        const severe = findings.filter((f) => f.severity !== "info");
        expect(severe).toEqual([]);
        const burst = JSON.parse(text(`${mode}/burst.json`));
        const probing = findings.filter((f) => f.eventName === "probing");
        expect(probing.length).toBeGreaterThan(0);
        for (const f of probing) expect(f.details.userId).toBe(0);
        expect(probing.reduce((n, f) => n + (f.details.errnos.ENOENT ?? 0), 0)).toBeGreaterThanOrEqual(burst.calls);
      });

      test("every event attached with the hook asked for; stopped cleanly, nothing lost", () => {
        const err = text(`${mode}/modtrace.err`);
        expect(err).not.toContain("unavailable");
        expect(err).toContain(`${EVENTS.filter((e) => e.kind === "syscall").map((e) => e.name).join(", ")} (${SYSCALL_HOOK[mode]})`);
        for (const tp of ["module_load", "module_free", "module_request"]) expect(err).toContain(`${tp} (tracepoint module:${tp})`);
        expect(err).toContain(`do_init_module (${mode === "kprobe" ? "kprobe/kretprobe" : "fentry/fexit"} on do_init_module)`);
        const rc = text(`${mode}/modtrace.rc`).trim();
        if (rc !== "0") throw new Error(`modtrace exited ${rc}; its stderr:\n${err}\n--- console:\n${r.console.slice(-6000)}`);
        expect(err).toMatch(/ 0 lost /);
        expect(err).toContain(`${events.length} events captured`);
      });

      test("CBOR log: same maps as JSON, valid for a decoder that is not ours, read back byte for byte", () => {
        const bytes = r.outputs[`${mode}/events.cbor`]!;
        const items = cborItems(bytes);
        expect(strictItemCount(bytes)).toBe(items.length);
        const inner = withoutSeals(items).slice(1, -1);
        // Findings sit among the events, each where JSON has it.
        expect(inner.filter((i: any) => i.finding === true)).toEqual(findings);
        const maps = inner.filter((i: any) => i.finding !== true).map((e) => {
          // Byte strings in CBOR are lowercase hex in JSON.
          for (const a of e.args) if (a.raw instanceof Uint8Array) a.raw = Buffer.from(a.raw).toString("hex");
          if (e.sha256 instanceof Uint8Array) e.sha256 = Buffer.from(e.sha256).toString("hex");
          return e;
        });
        expect(maps).toEqual(events);
        // Read back on the host (it is the same binary; under emulation it is slow).
        const log = join(mkdtempSync(join(tmpdir(), "modtrace-vm-")), "events.cbor");
        writeFileSync(log, bytes);
        const read = runModtrace(["read", log, "-o", "json"]);
        expect(read.exitCode).toBe(0);
        expect(read.stdoutBytes.equals(Buffer.from(r.outputs[`${mode}/events.json`]!))).toBe(true);
      });

      test("insmod dummy.ko numdummies=2: finit_module, module_load, do_init_module, tied by callId", () => {
        const rel = "kernel/drivers/net/dummy.ko";
        const call = one(byPid("finit_module", "insmod"));
        expect(call).toMatchObject({ returnValue: 0, processName: "insmod", hook: HOOK_FIELD[mode], moduleName: "dummy" });
        expect(call.executable.path).toBe("/bin/kmod");
        expect(arg(call, "pathname").value).toBe(`/lib/modules/${kver}/${rel}`);
        expect(arg(call, "param_values").value).toBe("numdummies=2");
        expect(arg(call, "flags").value).toBe(0);
        const load = one(sameCall(call, "module_load"));
        expect(load).toMatchObject({ hostProcessId: steps.insmod.pid, hook: "tracepoint", returnValue: 0 });
        expect(arg(load, "name").value).toBe("dummy");
        expect(arg(load, "version").value).toBe(modinfo(rel, "version"));
        expect(arg(load, "src_version").value).toBe(modinfo(rel, "srcversion"));
        expect(arg(load, "taints")).toMatchObject({ value: 0 });
        expect(arg(load, "sig_ok").value).toBe(modinfo(rel, "sig_id") !== null);
        for (const a of ["pathname", "dev", "inode"]) expect(arg(load, a).value).toEqual(arg(call, a).value);
        // Its code range, read with CO-RE (6.1's core_layout), against /proc/modules' base and
        // size. Kernel addresses pass 2^53: read from the JSON text, not through numbers.
        const line = text(`${mode}/events.json`).split("\n").find((l) => l.includes('"eventName":"module_load"') && l.includes(`"callId":${load.callId},`))!;
        const num = (name: string) => BigInt(new RegExp(`"name":"${name}"[^}]*"value":(\\d+)`).exec(line)![1]);
        const [, size, , , , base] = text(`${mode}/dummy-proc-modules.txt`).trim().split(/\s+/);
        expect(num("code_base")).toBe(BigInt(base));
        expect(num("code_size")).toBeGreaterThan(0n);
        expect(num("code_size")).toBeLessThanOrEqual(BigInt(size));
        const init = one(sameCall(call, "do_init_module"));
        expect(init).toMatchObject({ returnValue: 0, hook: INIT_HOOK[mode] });
        expect(arg(init, "name").value).toBe("dummy");
      });

      test("insmod of a loaded module: EEXIST", () => {
        const call = one(byPid("finit_module", "insmod-again"));
        expect(call).toMatchObject({ returnValue: -17, returnError: "EEXIST" });
        expect(sameCall(call, "do_init_module")).toEqual([]);
      });

      test("rmmod dummy: delete_module and the module_free it caused", () => {
        const call = one(byPid("delete_module", "rmmod"));
        expect(call).toMatchObject({ returnValue: 0, moduleName: "dummy" });
        expect(call.nameMismatch).toBeUndefined();
        expect(arg(call, "name").value).toBe("dummy");
        expect(arg(call, "flags")).toMatchObject({ value: 0o4000, decoded: "O_NONBLOCK" });
        expect(arg(one(sameCall(call, "module_free")), "name").value).toBe("dummy");
      });

      test("modprobe 8021q: the dependency chain, each load with its module_load and init", () => {
        const chain = [...depsOf("kernel/net/8021q/8021q.ko"), "kernel/net/8021q/8021q.ko"];
        const calls = byPid("finit_module", "modprobe");
        expect(calls.map((e) => arg(e, "pathname").value).sort()).toEqual(chain.map((p) => `/lib/modules/${kver}/${p}`).sort());
        const order = calls.map((e) => arg(e, "pathname").value.replace(`/lib/modules/${kver}/`, ""));
        for (const mod of chain) for (const dep of depsOf(mod)) expect(order.indexOf(dep)).toBeLessThan(order.indexOf(mod));
        for (const call of calls) {
          const name = basename(arg(call, "pathname").value, ".ko");
          expect(call).toMatchObject({ returnValue: 0, moduleName: name });
          expect(arg(call, "param_values").value).toBe("");
          expect(arg(one(sameCall(call, "module_load")), "name").value).toBe(name);
          expect(one(sameCall(call, "do_init_module")).returnValue).toBe(0);
        }
        expect(arg(events.find((e) => e.eventName === "module_load" && arg(e, "name").value === "8021q"), "version").value).toBe(
          modinfo("kernel/net/8021q/8021q.ko", "version"),
        );
      });

      test("an unload refused because the module is in use: EAGAIN, nothing freed", () => {
        const call = one(byPid("delete_module", "rmmod-in-use"));
        expect(call).toMatchObject({ returnValue: -11, returnError: "EAGAIN" });
        expect(arg(call, "name").value).toBe("llc");
        expect(sameCall(call, "module_free")).toEqual([]);
      });

      test("a kernel-initiated autoload: module_request, then the kernel's modprobe loads cdrom and isofs", () => {
        const request = one(byPid("module_request", "autoload-mount"));
        expect(request).toMatchObject({ processName: "mount", hook: "tracepoint" });
        expect(arg(request, "name").value).toBe("fs-iso9660");
        expect(arg(request, "wait").value).toBe(true);
        const ours = new Set(Object.values(steps).map((s) => s.pid));
        const loads = events.filter((e) => e.eventName === "finit_module" && !ours.has(e.hostProcessId) && e.processName === "modprobe");
        expect(loads.map((e) => e.moduleName)).toEqual(["cdrom", "isofs"]);
        for (const e of loads) expect(e.returnValue).toBe(0);
      });

      test("a load whose init fails: do_init_module shows init's error, module_free follows", () => {
        const calls = byPid("finit_module", "init-fails");
        const call = calls.find((e) => e.moduleName === "acpi_cpufreq")!;
        expect(steps["init-fails"].rc).not.toBe(0);
        expect(call.returnValue).toBeLessThan(0);
        const init = one(sameCall(call, "do_init_module"));
        expect(arg(init, "name").value).toBe("acpi_cpufreq");
        expect(init.returnValue).toBe(call.returnValue);
        expect(arg(one(sameCall(call, "module_load")), "name").value).toBe("acpi_cpufreq");
        expect(arg(one(sameCall(call, "module_free")), "name").value).toBe("acpi_cpufreq");
      });

      test("an unprivileged attempt: EPERM, with the caller's uid", () => {
        const call = one(byPid("delete_module", "unprivileged"));
        expect(call).toMatchObject({ returnValue: -1, returnError: "EPERM", userId: 65534, groupId: 65534 });
        expect(arg(call, "name").value).toBe("mt_unprivileged");
      });

      test("insmod dummy.ko.xz: kmod decompresses, init_module with the whole image", () => {
        const call = one(byPid("init_module", "insmod-xz"));
        expect(byPid("finit_module", "insmod-xz")).toEqual([]);
        expect(call).toMatchObject({ returnValue: 0, moduleName: "dummy", hook: HOOK_FIELD[mode] });
        expect(arg(call, "len").value).toBe(statSync(join(modulesDir, "kernel/drivers/net/dummy.ko")).size);
        expect(arg(call, "param_values").value).toBe("numdummies=1");
        const load = one(sameCall(call, "module_load"));
        expect(arg(load, "pathname").value).toBeNull(); // no file: the image came from memory
        expect(one(sameCall(call, "do_init_module")).returnValue).toBe(0);
        expect(one(byPid("delete_module", "rmmod-xz"))).toMatchObject({ returnValue: 0, moduleName: "dummy" });
      });

      test("rmmod of a module that is not loaded: ENOENT", () => {
        expect(one(byPid("delete_module", "rmmod-missing"))).toMatchObject({ returnValue: -2, returnError: "ENOENT" });
      });

      test("a burst of 20,000 delete_module calls: 20,000 events", () => {
        const burst = JSON.parse(text(`${mode}/burst.json`));
        expect(events.filter((e) => e.hostProcessId === burst.pid).length).toBe(20000);
        // Medians of three runs each; the bare runs came just before this mode's capture.
        const medianNs = (file: string) => text(file).trim().split("\n").map((l) => JSON.parse(l).ns_per_call).sort((a, b) => a - b)[1];
        const bare = medianNs(`${mode}/getppid-bare.json`);
        const traced = medianNs(`${mode}/getppid.json`);
        console.log(
          `  ${mode.padEnd(6)} delete_module burst: ${Math.round(burst.calls / burst.seconds)} calls/s traced; ` +
            `getppid: ${traced} ns/call traced vs ${bare} ns bare (x${(traced / bare).toFixed(2)})`,
        );
      });
    });
  }
});
