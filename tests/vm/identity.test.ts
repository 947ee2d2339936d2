// The vm tier, module identity: every load attempt carries the sha256 of the
// exact image the kernel was handed, checked against sha256 of the kernel
// package's own module files computed here on the host (never by modtrace);
// --save-modules keeps each image once, byte for byte; a ring too small for
// an image gives no hash and says why. tests/vm/identity-guest.sh runs in the guest.
import { beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { guestScript, outputText, xzCopy, prepare, REPO, runInVm, vmCannotRun, type VmResult } from "./run";

// Every attach mode has the image hooks on 6.1: raw mode hooks syscalls
// through raw_syscalls, and images through fentry like do_init_module.
const MODES = ["fentry", "kprobe", "raw"] as const;
const IMAGE_HOOK = { fentry: "fentry", kprobe: "kprobe", raw: "fentry" };

const cannotRun = vmCannotRun();
if (cannotRun && process.env.CI !== "true") console.log(`vm tests skipped: ${cannotRun}`);

let r: VmResult;
let kver: string;
let modulesDir: string;

const text = (name: string) => outputText(r, name);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
/** sha256 and size of a module file of the kernel package, by its path in the guest. */
const moduleFile = (guestPath: string) => {
  const prefix = `/lib/modules/${kver}/`;
  if (!guestPath.startsWith(prefix)) throw new Error(`${guestPath} is not a module of ${kver}`);
  const bytes = readFileSync(join(modulesDir, guestPath.slice(prefix.length)));
  return { sha256: sha256(bytes), size: bytes.length };
};
const arg = (e: any, name: string) => e.args.find((a: any) => a.name === name)?.value;

interface Capture {
  events: any[];
  err: string;
  steps: Record<string, { pid: number; rc: number }>;
}

function capture(dir: string): Capture {
  const steps: Capture["steps"] = {};
  for (const line of text(`${dir}/steps.txt`).trim().split("\n").filter(Boolean)) {
    const [name, pid, rc] = line.split(" ");
    steps[name] = { pid: Number(pid), rc: Number(rc) };
  }
  const events = text(`${dir}/events.json`).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const err = text(`${dir}/modtrace.err`);
  const rc = text(`${dir}/modtrace.rc`).trim();
  if (rc !== "0") throw new Error(`modtrace exited ${rc}; its stderr:\n${err}`);
  return { events, err, steps };
}

/** The load syscalls a step made, each with the module_load of the same call. */
function loads(c: Capture, step: string, syscall = "finit_module") {
  const pid = c.steps[step].pid;
  return c.events
    .filter((e) => e.eventName === syscall && e.hostProcessId === pid)
    .map((call) => ({ call, load: c.events.filter((e) => e.eventName === "module_load" && e.callId === call.callId) }));
}

/** The call and its module_load (when the kernel got that far) carry this image. */
function expectImage(call: any, load: any[], image: { sha256: string; size: number }) {
  expect({ sha256: call.sha256, size: call.size, error: call.sha256Error }).toEqual({ ...image, error: undefined });
  for (const l of load) expect({ sha256: l.sha256, size: l.size }).toEqual(image);
}

/** "module images: N hashed, M without a hash (image ring full: F, chunks lost: L)…" */
function imageSummary(err: string) {
  const m = /module images: (\d+) hashed, (\d+) without a hash \(image ring full: (\d+), chunks lost: (\d+)\)/.exec(err);
  if (!m) throw new Error(`no image summary in:\n${err}`);
  const [hashed, without, ringFull, lost] = m.slice(1).map(Number);
  return { hashed, without, ringFull, lost };
}

describe.skipIf(!!cannotRun && process.env.CI !== "true")("module identity in a Debian 6.1 VM", () => {
  let dummy: { sha256: string; size: number };

  beforeAll(async () => {
    if (cannotRun) throw new Error(`the vm tier cannot run here: ${cannotRun}`);
    const prep = prepare();
    kver = prep.kernelVersion;
    modulesDir = prep.modulesDir;
    dummy = moduleFile(`/lib/modules/${kver}/kernel/drivers/net/dummy.ko`);
    const dummyXz = xzCopy(modulesDir, "kernel/drivers/net/dummy.ko");
    r = await runInVm({
      script: guestScript("identity-guest.sh", { MODES: MODES.join(" ") }),
      files: { "/root/trigger": join(REPO, "tests/trigger"), "/root/dummy.ko.xz": dummyXz },
      modules: ["acpi_cpufreq", "xfs"],
      timeoutSec: 900,
    });
    console.log(`vm: booted ${kver} and ran the identity scenarios in ${r.seconds.toFixed(1)} s`);
    if (r.exitCode !== 0) throw new Error(`the guest script exited ${r.exitCode}:\n${r.console}`);
  }, 960_000);

  for (const mode of MODES) {
    describe(`--attach ${mode}`, () => {
      let c: Capture;
      beforeAll(() => {
        c = capture(mode);
      });

      test("the image hook is attached, and every image was hashed", () => {
        expect(c.err).toContain(`module images for sha256 (${IMAGE_HOOK[mode]} on security_kernel_post_read_file, security_kernel_post_load_data)`);
        const s = imageSummary(c.err);
        expect(s.without).toBe(0);
        const hashedCalls = new Set(c.events.filter((e) => e.sha256 && e.eventName !== "module_load").map((e) => e.callId));
        expect(s.hashed).toBe(hashedCalls.size);
        expect(c.events.filter((e) => e.sha256Error)).toEqual([]);
      });

      test("insmod (finit_module): the hash of the file, on the call and its module_load", () => {
        const [l] = loads(c, "insmod");
        expect(l.call.returnValue).toBe(0);
        expect(l.load.length).toBe(1);
        expectImage(l.call, l.load, dummy);
      });

      test("init_module from memory: the hash of the bytes the caller passed", () => {
        const [l] = loads(c, "image", "init_module");
        expect(l.call.returnValue).toBe(0);
        expect(arg(l.call, "len")).toBe(dummy.size);
        expectImage(l.call, l.load, dummy);
      });

      test("modprobe 8021q: every module of the chain has its own file's hash", () => {
        const chain = loads(c, "modprobe");
        expect(chain.length).toBe(5);
        for (const l of chain) expectImage(l.call, l.load, moduleFile(arg(l.call, "pathname")));
        expect(new Set(chain.map((l) => l.call.sha256)).size).toBe(5);
      });

      test("rmmod and other events carry no image", () => {
        for (const e of c.events.filter((e) => !["init_module", "finit_module", "module_load"].includes(e.eventName)))
          expect([e.sha256, e.size, e.sha256Error]).toEqual([undefined, undefined, undefined]);
      });

      if (mode !== MODES[0]) return;

      test("a load whose init fails: the image was read, so it has its hash", () => {
        const l = loads(c, "init-fails").find((x) => x.call.moduleName === "acpi_cpufreq")!;
        expect(l.call.returnValue).toBeLessThan(0);
        expectImage(l.call, l.load, moduleFile(arg(l.call, "pathname")));
      });

      test("insmod dummy.ko.xz: kmod decompressed it, so the hash is that of `xz -dc`, the plain .ko", () => {
        const [l] = loads(c, "insmod-xz", "init_module");
        expect(l.call.returnValue).toBe(0);
        expectImage(l.call, l.load, dummy);
      });

      test("modprobe xfs: a module over 2 MiB, and its dependencies", () => {
        const chain = loads(c, "big");
        const xfs = chain.find((l) => l.call.moduleName === "xfs")!;
        expect(xfs.call.size).toBeGreaterThan(2 << 20);
        for (const l of chain) expectImage(l.call, l.load, moduleFile(arg(l.call, "pathname")));
      });

      test("a file replaced right after its load: the hash is of what the kernel loaded", () => {
        const [l] = loads(c, "replaced");
        expect(arg(l.call, "pathname")).toBe("/tmp/replaced.ko");
        expectImage(l.call, l.load, dummy);
      });
    });
  }

  test("--save-modules: each distinct image once, byte for byte, mode 0600", () => {
    const c = capture("save");
    const saved = Object.keys(r.outputs).filter((n) => n.startsWith("save/saved/"));
    const names = saved.map((n) => n.slice("save/saved/".length));
    for (const n of saved) expect(`${sha256(r.outputs[n]!)}.ko`).toBe(n.slice("save/saved/".length));
    const images = new Set(c.events.filter((e) => e.sha256).map((e) => `${e.sha256}.ko`));
    expect(names.sort()).toEqual([...images].sort());
    expect(names).toContain(`${dummy.sha256}.ko`);
    // The originals, from the kernel package, byte for byte.
    for (const l of loads(c, "modprobe")) {
      const original = readFileSync(join(modulesDir, arg(l.call, "pathname").slice(`/lib/modules/${kver}/`.length)));
      expect(Buffer.from(r.outputs[`save/saved/${l.call.sha256}.ko`]!).equals(original)).toBe(true);
    }
    const listing = text("save/ls.txt").split("\n").filter((l) => l.endsWith(".ko"));
    expect(listing.length).toBe(names.length);
    for (const line of listing) expect(line).toMatch(/^-rw------- /);
    expect(c.err).toMatch(new RegExp(`${names.length} saved to /tmp/saved \\(1 there already, 0 not saved\\)`));
  });

  test("--save-limit: saving stops at the cap and says so", () => {
    const c = capture("capped");
    const files = text("capped/sha256sum.txt").trim().split("\n").map((l) => l.split(/\s+/));
    const xfs = loads(c, "big").find((l) => l.call.moduleName === "xfs")!;
    expect(xfs.call.sha256).toBeDefined(); // hashed all the same
    const savedHashes = files.map(([hash, path]) => {
      expect(path).toBe(`/tmp/capped/${hash}.ko`);
      return hash;
    });
    expect(savedHashes).toContain(dummy.sha256);
    expect(savedHashes).not.toContain(xfs.call.sha256);
    const bytes = text("capped/ls.txt").split("\n").filter((l) => l.endsWith(".ko")).reduce((n, l) => n + Number(l.split(/\s+/)[4]), 0);
    expect(bytes).toBeLessThanOrEqual(100 << 10);
    expect(c.err).toContain("stopped saving module images: --save-limit (102400 bytes) reached");
    expect(text("capped/ls.txt")).not.toContain(".partial-");
  });

  test("an image ring too small for xfs: no hash, the reason, and counts that add up", () => {
    const c = capture("small-ring");
    const chain = loads(c, "big");
    const xfs = chain.find((l) => l.call.moduleName === "xfs")!;
    const size = statSync(join(modulesDir, "kernel/fs/xfs/xfs.ko")).size;
    for (const e of [xfs.call, ...xfs.load]) {
      expect(e.sha256).toBeUndefined();
      expect(e.size).toBe(size);
      const m = /^image ring full after (\d+) of (\d+) bytes \(--image-buffer-size\)$/.exec(e.sha256Error);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeLessThan(size);
      expect(Number(m![2])).toBe(size);
    }
    for (const l of chain.filter((x) => x !== xfs)) expectImage(l.call, l.load, moduleFile(arg(l.call, "pathname")));
    const s = imageSummary(c.err);
    expect(s).toEqual({ hashed: chain.length - 1, without: 1, ringFull: 1, lost: 0 });
  });
});
