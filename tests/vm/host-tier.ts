// The host tier on a kernel with modules: tests/host, unchanged, inside the
// Debian 6.1 guest (fentry, kprobes, loadable modules: everything this
// development machine's kernel lacks), in one attach mode per VM. Its tests
// derive their expectations from the kernel they run on (doctor --json, the
// trigger), so the same files must pass here and there. One file per mode
// (host-tier-MODE.test.ts): each is a VM of its own, so tests/run.ts can run
// them side by side with the other VM files. Each file whose subject comes
// after the ring runs in one mode's VM only (see AFTER_THE_RING).
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { guestScript, outputText, REPO, runInVm, vmCannotRun, type VmResult } from "./run";

const cannotRun = vmCannotRun();
if (cannotRun && process.env.CI !== "true") console.log(`vm tests skipped: ${cannotRun}`);

/** The repo files the host tier reads, by guest path: its tests, the sources
 * they import, the log fixture the offline tests read, and cbor-x (the only
 * package they import). */
function repoFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  const add = (rel: string) => {
    const path = join(REPO, rel);
    if (statSync(path).isDirectory()) for (const e of readdirSync(path)) add(join(rel, e));
    else files[join("/root/repo", rel)] = path;
  };
  // The source rooms as tsconfig.json lists them (one list of them, which the
  // Makefile's TS_ROOMS matches), with the decoder's generated tables.
  const rooms = (JSON.parse(readFileSync(join(REPO, "tsconfig.json"), "utf8")).include as string[]).filter((r) => !r.includes("*") && r !== "tests" && r !== "bench");
  for (const rel of ["package.json", "bunfig.toml", "tsconfig.json", "tests/host", "tests/lib", "tests/trigger", "tests/mt_write_user.bpf.o", "tests/mt_send_signal.bpf.o", "tests/fixtures/kernel-6.18.cbor",
    ...rooms, "decoder/assembly", "decoder/generated", "node_modules/cbor-x"]) add(rel);
  return files;
}

/** Debian python3's standard library and cbor2 (package and C extension), as the host's python3 finds them. */
function pythonTrees(): string[] {
  const where = spawnSync("/usr/bin/python3", ["-c", "import sysconfig, cbor2, _cbor2; print(sysconfig.get_paths()['stdlib']); print(cbor2.__path__[0]); print(_cbor2.__file__)"], { encoding: "utf8" });
  if (where.status !== 0) throw new Error(`/usr/bin/python3 with cbor2 is needed (build.sh installs python3-cbor2): ${where.stderr}`);
  return where.stdout.trim().split("\n");
}

type Mode = "fentry" | "kprobe" | "raw";

/** tests/host files whose subject comes after the ring (logs, output files
 * and their errors, pipes and terminals, rows, seals), each with the one lane
 * that runs it. The attach mode changes nothing they test (every mode writes
 * the same records), and under emulation each costs minutes: run in every
 * lane they took one lane past the VM's 30 minutes. Shared so the three
 * lanes take about as long. */
const AFTER_THE_RING: Record<string, Mode> = {
  logs: "kprobe",
  "output-errors": "kprobe",
  "output-files": "kprobe",
  "pipes-and-terminals": "raw",
  rows: "raw",
  verify: "fentry",
};

/** The tests/host files a lane runs: those the attach mode bears on, and its share of the rest. */
function hostFiles(mode: Mode): string[] {
  const all = readdirSync(join(REPO, "tests/host")).filter((f) => f.endsWith(".test.ts")).sort();
  for (const name of Object.keys(AFTER_THE_RING)) if (!all.includes(`${name}.test.ts`)) throw new Error(`host-tier.ts names tests/host/${name}.test.ts, which is gone`);
  return all.filter((f) => (AFTER_THE_RING[f.replace(/\.test\.ts$/, "")] ?? mode) === mode).map((f) => `./tests/host/${f}`);
}

/** The suite for one attach mode: boots the guest, runs its tests/host files with MODTRACE_ATTACH=MODE. */
export function hostTierSuite(mode: Mode) {
  let r: VmResult;
  describe.skipIf(!!cannotRun && process.env.CI !== "true")(`the host tier in a Debian 6.1 VM, --attach ${mode}`, () => {
    beforeAll(async () => {
      if (cannotRun) throw new Error(`the vm tier cannot run here: ${cannotRun}`);
      r = await runInVm({
        script: guestScript("host-tier-guest.sh", { MODES: mode, FILES: hostFiles(mode).join(" ") }),
        files: repoFiles(),
        // bun runs the tests; python3's cbor2 is their independent CBOR check;
        // setpriv runs modtrace unprivileged; script gives it a terminal, bash
        // a pipe whose reader is gone; bpftool is the root writer that tries
        // to blind a capture.
        tools: {
          "/usr/bin/bun": process.execPath,
          "/usr/bin/python3": "/usr/bin/python3",
          "/usr/bin/setpriv": "/usr/bin/setpriv",
          "/usr/bin/script": "/usr/bin/script",
          "/bin/bash": "/bin/bash",
          "/usr/sbin/bpftool": "/usr/sbin/bpftool",
        },
        trees: pythonTrees(),
        memoryMiB: 3072,
        timeoutSec: 1800,
      });
      console.log(`vm: ran the host tier with --attach ${mode} in ${r.seconds.toFixed(1)} s`);
      if (r.exitCode !== 0) throw new Error(`the guest script exited ${r.exitCode}:\n${r.console}`);
    }, 1_860_000);

    test(`tests/host passes with --attach ${mode}`, () => {
      const report = outputText(r, `host-${mode}.txt`);
      const failed = Number(/^\s*(\d+) fail$/m.exec(report)?.[1] ?? NaN);
      const passed = Number(/^\s*(\d+) pass$/m.exec(report)?.[1] ?? NaN);
      if (failed !== 0 || outputText(r, `host-${mode}.rc`).trim() !== "0") console.log(report);
      expect(failed).toBe(0);
      expect(passed).toBeGreaterThan(0);
      expect(outputText(r, `host-${mode}.rc`).trim()).toBe("0");
    });
  });
}
