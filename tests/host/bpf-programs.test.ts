// The BPF programs watch on this machine's kernel: programs that call the
// helpers eBPF rootkits use (tests/mt_*.bpf.c), loaded with Debian's bpftool
// and never attached, found by modtrace scan and by a capture, with the id
// bpftool gives them. Lockdown decides whether bpf_probe_write_user can be
// loaded at all; where it refuses, that refusal is the fact checked.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, realpathSync, rmSync } from "node:fs";
import { Capture, findingLines } from "./harness";
import { runModtrace } from "../lib/modtrace";

const BPFFS = "/sys/fs/bpf";
const pins: string[] = [];

function bpffs() {
  if (readFileSync("/proc/mounts", "utf8").split("\n").some((l) => l.split(" ")[1] === BPFFS && l.split(" ")[2] === "bpf")) return;
  const m = Bun.spawnSync(["mount", "-t", "bpf", "bpf", BPFFS], { stderr: "pipe" });
  if (m.exitCode !== 0) throw new Error(`cannot mount bpffs at ${BPFFS}: ${m.stderr}`);
}

/** Loads (never attaches) a test program; its id, or bpftool's refusal. */
function load(object: string): { id: number } | { refused: string } {
  bpffs();
  const pin = `${BPFFS}/mt_test_${object}_${process.pid}_${pins.length}`;
  const r = Bun.spawnSync(["bpftool", "prog", "load", `tests/${object}.bpf.o`, pin], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) return { refused: r.stderr.toString() + r.stdout.toString() };
  pins.push(pin);
  return { id: JSON.parse(Bun.spawnSync(["bpftool", "-j", "prog", "show", "pinned", pin]).stdout.toString()).id };
}

afterAll(() => pins.forEach((p) => rmSync(p, { force: true })));

const ofRule = (fs: any[]) => fs.filter((f) => f.eventName === "bpf_dangerous_helper");

test("modtrace scan and a capture name a loaded program that signals processes (medium), by its id; one loaded during the capture too", async () => {
  const signal = load("mt_send_signal");
  if ("refused" in signal) throw new Error(`bpftool could not load the bpf_send_signal program: ${signal.refused}`);
  const scan = runModtrace(["scan", "--json", "--fail-on", "critical"], { timeout: 60_000 });
  expect(scan.exitCode).toBe(0);
  const found = ofRule(JSON.parse(scan.stdout).findings).filter((f: any) => f.details.id === signal.id);
  expect(found.map((f: any) => [f.severity, f.details.helpers, f.details.name, f.details.type])).toEqual([["medium", ["bpf_send_signal"], "mt_send_signal", "raw_tracepoint"]]);
  // Pinned, never attached, bpftool long gone: no process holds it.
  expect(found[0].details.heldBy).toEqual([]);
  expect(found[0].description).toContain("held by no process");

  const c = await Capture.start(["--comm", "mt-nothing", "--scan-interval", "0.5", "-o", "json"]);
  await c.stdoutHas(`"id":${signal.id},`);
  const writer = load("mt_write_user");
  if ("id" in writer) await c.stdoutHas(`"id":${writer.id},`);
  const done = await c.stop();
  expect(done.exitCode).toBe(0);
  const live = ofRule(findingLines(done.stdout));
  expect(live.filter((f) => f.details.id === signal.id).map((f) => f.details.inPlaceAtStart)).toEqual([true]);
  if ("id" in writer) {
    // Allowed here: an eBPF rootkit could write into processes' memory.
    expect(live.filter((f) => f.details.id === writer.id).map((f) => [f.severity, f.details.helpers, f.details.inPlaceAtStart])).toEqual([["high", ["bpf_probe_write_user"], false]]);
  } else {
    // Kernel lockdown (integrity) refuses the helper to everyone, rootkits included.
    expect(writer.refused).toContain("cannot use helper bpf_probe_write_user");
  }
});

test("modtrace scan lists every BPF program with the processes holding it: a capture's own, held by its pid and executable; a pinned one by none", async () => {
  const signal = load("mt_send_signal");
  if ("refused" in signal) throw new Error(`bpftool could not load the bpf_send_signal program: ${signal.refused}`);
  const c = await Capture.start(["--comm", "mt-nothing", "-o", "json"]);
  let scan, listed: number[];
  try {
    scan = runModtrace(["scan", "--json", "--fail-on", "critical"], { timeout: 60_000 });
    // bpftool's own account of the programs, independent of modtrace.
    listed = JSON.parse(Bun.spawnSync(["bpftool", "-j", "prog", "show"]).stdout.toString()).map((p: any) => p.id);
  } finally {
    await c.stop();
  }
  expect(scan.exitCode).toBe(0);
  const programs = JSON.parse(scan.stdout).bpfPrograms;
  // The programs that matter here are in bpftool's list too (a program of an
  // earlier capture may be freed between the two reads: not compared).
  const ids = programs.map((p: any) => p.id);
  expect(listed).toEqual(expect.arrayContaining([signal.id, ...programs.filter((p: any) => p.heldBy.some((h: any) => h.pid === c.pid)).map((p: any) => p.id)]));
  expect(ids).toContain(signal.id);
  const pinned = programs.find((p: any) => p.id === signal.id);
  expect([pinned.name, pinned.helpers, pinned.heldBy]).toEqual(["mt_send_signal", ["bpf_send_signal"], []]);
  const captures = programs.filter((p: any) => p.heldBy.some((h: any) => h.pid === c.pid));
  expect(captures.length).toBeGreaterThan(0);
  for (const p of captures) {
    expect(p.helpers).toEqual([]);
    expect(p.heldBy.find((h: any) => h.pid === c.pid).exe).toBe(realpathSync("dist/modtrace"));
  }
});
