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
  let scan, listed: number[], links: any[], perfs: any[];
  const trampolined = trampolinedFunctions();
  try {
    scan = runModtrace(["scan", "--json", "--fail-on", "critical"], { timeout: 60_000 });
    // bpftool's own account of the programs, links and perf events, independent of modtrace.
    const bpftool = (...args: string[]) => JSON.parse(Bun.spawnSync(["bpftool", "-j", ...args]).stdout.toString() || "[]");
    listed = bpftool("prog", "show").map((p: any) => p.id);
    links = bpftool("link", "show");
    perfs = bpftool("perf", "show");
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
  // Where each of the capture's programs is attached: its links as bpftool
  // lists them, and its perf events (kprobe mode) as bpftool's perf list has them.
  const TRACING: Record<string, string> = { trace_fentry: "fentry", trace_fexit: "fexit", modify_return: "fmod_ret", lsm_mac: "lsm", trace_raw_tp: "tp_btf" };
  const order = (a: any[]) => a.map((x) => JSON.stringify(x)).sort();
  for (const p of captures) {
    const fromLinks = p.attachedTo.filter((a: any) => a.link !== undefined).map((a: any) => ({ link: a.link, kind: a.kind, ...(a.kind === "raw_tracepoint" && { target: a.target }) }));
    const byBpftool = links.filter((l) => l.prog_id === p.id).map((l) => ({ link: l.id, kind: l.type === "tracing" ? TRACING[l.attach_type] : l.type, ...(l.type === "raw_tracepoint" && { target: l.tp_name }) }));
    expect(order(fromLinks)).toEqual(order(byBpftool));
    expect(byBpftool.length).toBeGreaterThan(0);
    const fromPerf = p.attachedTo.filter((a: any) => a.link === undefined);
    const perfByBpftool = perfs
      .filter((e) => e.prog_id === p.id && e.pid === c.pid && e.fd_type !== "raw_tracepoint") // a raw tracepoint's is its link, above
      .map((e) => ({ kind: e.fd_type, target: e.func !== undefined ? `${e.func}+0x${e.offset.toString(16)}` : (e.tracepoint ?? e.filename) }));
    expect(order(fromPerf)).toEqual(order(perfByBpftool));
  }
  // fentry and fexit targets, named from BTF: the functions the kernel shows with
  // a BPF trampoline in ftrace's list (only where such programs are attached).
  const tracingTargets = programs.flatMap((p: any) => p.attachedTo.filter((a: any) => ["fentry", "fexit", "fmod_ret"].includes(a.kind)).map((a: any) => a.target));
  if (tracingTargets.length) expect([...new Set(tracingTargets)].sort()).toEqual(trampolined);
});

/** Functions ftrace's enabled_functions shows calling a BPF trampoline. */
function trampolinedFunctions(): string[] {
  let text = "";
  for (const f of ["/sys/kernel/tracing/enabled_functions", "/sys/kernel/debug/tracing/enabled_functions"]) {
    try {
      text = readFileSync(f, "utf8");
      break;
    } catch {}
  }
  const found = new Set<string>();
  let fn = "";
  for (const line of text.split("\n")) {
    if (!/^\s/.test(line)) fn = line.split(" ")[0];
    if (/direct-->bpf_trampoline_/.test(line)) found.add(fn);
  }
  return [...found].sort();
}

test("scan events: a program loaded and unloaded during a capture is logged as bpf_program added (at the load time the kernel records) and removed, with bpftool's id, name, type and helpers; the capture's own programs and probe stubs are no news", async () => {
  const c = await Capture.start(["--scan-interval", "0.3", "-o", "json"]);
  const signal = load("mt_send_signal");
  if ("refused" in signal) throw new Error(`bpftool could not load the bpf_send_signal program: ${signal.refused}`);
  const pin = pins.at(-1)!;
  const loadedAt = JSON.parse(Bun.spawnSync(["bpftool", "-j", "prog", "show", "pinned", pin]).stdout.toString()).loaded_at;
  const idArg = `{"name":"prog_id","type":"u32","value":${signal.id}}`;
  await c.stdoutHas(idArg);
  // Its finding (details.id), before it goes.
  await c.stdoutHas(`"id":${signal.id},`);
  rmSync(pin);
  pins.pop();
  // Unpinned and held by no one: the kernel frees it; the next scan says so.
  await c.stdoutHas(`"value":"removed"}]}`);
  const done = await c.stop();
  expect(done.exitCode).toBe(0);
  const arg = (e: any, name: string) => e.args.find((a: any) => a.name === name)?.value;
  const programs = done.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((o) => o.finding !== true && o.eventName === "bpf_program");
  expect(programs.map((e) => [arg(e, "change"), arg(e, "prog_id"), arg(e, "prog_name"), arg(e, "prog_type"), arg(e, "prog_helpers"), arg(e, "prog_uid")])).toEqual([
    ["added", signal.id, "mt_send_signal", "raw_tracepoint", "bpf_send_signal", 0],
    ["removed", signal.id, "mt_send_signal", "raw_tracepoint", "bpf_send_signal", 0],
  ]);
  // Added at the kernel's own load time (bpftool shows it in whole seconds); removed after.
  const added = Number(BigInt(programs[0].timestamp) / 1_000_000_000n);
  expect(Math.abs(added - loadedAt)).toBeLessThanOrEqual(1);
  expect(BigInt(programs[1].timestamp)).toBeGreaterThan(BigInt(programs[0].timestamp));
  for (const e of programs) expect([e.hook, e.hostProcessId, e.processName, e.eventId]).toEqual(["scan", 0, "", 2013]);
  // Its finding cites the event that logged its arrival.
  const found = findingLines(done.stdout).filter((f) => f.eventName === "bpf_dangerous_helper" && f.details.id === signal.id);
  expect(found.map((f) => f.evidence)).toEqual([[{ eventName: "bpf_program", timestamp: programs[0].timestamp }]]);
  expect(done.stderr).toMatch(/; [^;]*bpf_program[^;]* \(scan every 0\.3 s\)/);
  expect(done.stderr).toMatch(/bpf_program 2[,)]/);
});

test("scan events are no process's doing: a capture that selects processes leaves them out, and says so", async () => {
  const c = await Capture.start(["--comm", "mt-nothing", "-o", "json"]);
  const done = await c.stop();
  expect(done.exitCode).toBe(0);
  for (const name of ["ftrace_hook", "kprobe_hook", "bpf_program"])
    expect(done.stderr).toContain(`${name} unavailable: left out: a scan event is no process's doing, and --comm selects processes`);
  expect(done.stderr).not.toContain("(scan every");
});
