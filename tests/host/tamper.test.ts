// Tampering with a running capture, as root on the same host would. What the
// kernel side reads as settings (the attached-events mask, the filter sets)
// is frozen once the capture runs: a write through bpf() is refused, and the
// capture goes on recording. The maps are found through the capture's own
// descriptors (/proc/PID/fdinfo), the writer is Debian's bpftool.
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Capture, doctorReport, findingLines, jsonLines, MODTRACE, notAModule, scratchDir, trigger } from "./harness";
import { runModtrace } from "../lib/modtrace";

const MODTRACE_PATH = realpathSync(MODTRACE);

/** The ids and names of the BPF maps a process holds. */
function mapsOf(pid: number): { id: number; name: string; frozen: boolean }[] {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const id = /^map_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"))?.[1];
      if (id) ids.add(Number(id));
    } catch {
      // a descriptor closed meanwhile
    }
  }
  return [...ids].map((id) => {
    const m = JSON.parse(Bun.spawnSync(["bpftool", "-j", "map", "show", "id", String(id)]).stdout.toString());
    return { id, name: m.name, frozen: m.frozen === 1 };
  });
}

test("a root writer cannot zero the attached-events mask: refused, and the capture records on", async () => {
  const c = await Capture.start(["--attach", "raw", "--comm", "mt-trigger", "-o", "json"]);
  try {
    const maps = mapsOf(c.pid);
    const attached = maps.find((m) => m.name.endsWith(".data.attached") || m.name.endsWith("attached"));
    expect(attached).toBeDefined();
    // The settings and the filter sets are frozen; the rings and counters are not (the kernel writes them).
    expect(maps.filter((m) => m.frozen).map((m) => m.name).sort()).toEqual(expect.arrayContaining([attached!.name]));
    const zero = Bun.spawnSync(["bpftool", "map", "update", "id", String(attached!.id), "key", "hex", "00", "00", "00", "00", "value", "hex", "00", "00", "00", "00", "00", "00", "00", "00"], { stderr: "pipe" });
    expect(zero.exitCode).not.toBe(0);
    expect(zero.stderr.toString()).toContain("Operation not permitted");
    const [call] = trigger("uid", "65534");
    await c.stdoutHas(`"hostProcessId":${call.pid},`);
  } finally {
    const done = await c.stop();
    expect(done.exitCode).toBe(0);
    expect(done.stderr).not.toContain("could not be frozen");
    expect(jsonLines(done.stdout).filter((e) => e.eventName === "delete_module").length).toBe(1);
  }
});

test("SIGSTOP: once continued, monitor_tampered (critical) says how long it was blind, and what happened meanwhile is still recorded; read gives the log's finding back", async () => {
  const log = join(scratchDir(), "log.cbor");
  const c = await Capture.start(["--comm", "mt-trigger", "-o", "json", "-o", `cbor:${log}`]);
  let call: any;
  try {
    process.kill(c.pid, "SIGSTOP");
    // The stop is the scenario, not a wait: the calls made while it lasts
    // wait in the ring.
    [call] = trigger("uid", "65534");
    await Bun.sleep(1500);
    process.kill(c.pid, "SIGCONT");
    await c.stdoutHas('"eventName":"monitor_tampered"');
    await c.stdoutHas(`"hostProcessId":${call.pid},`);
  } finally {
    const done = await c.stop();
    expect(done.exitCode).toBe(0);
    const found = findingLines(done.stdout).filter((o) => o.eventName === "monitor_tampered");
    expect(found.map((f) => [f.severity, f.details.cause])).toEqual([["critical", "stopped"]]);
    expect(found[0].details.stoppedSeconds).toBeGreaterThanOrEqual(1.5);
    expect(found[0].techniques.map((t: any) => t.id)).toEqual(["T1562.001"]);
    expect(done.stderr).toContain("warning: modtrace was stopped and continued");
    // A finding with no evidence events is the log's like any other: read
    // prints what was printed live, and the findings rows hold it.
    expect(runModtrace(["read", log, "-o", "json"]).stdout).toBe(done.stdout);
    const rows = runModtrace(["read", log, "-o", "findings"]).stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.rule, r.severity, r.evidence])).toEqual([["monitor_tampered", "critical", "[]"]]);
  }
});

test("a root process that moves the bulk ring's read position past what waits: monitor_tampered (critical) with the bytes skipped", async () => {
  const c = await Capture.start(["--comm", "mt-trigger", "-o", "json"]);
  let skip: any;
  let call: any;
  try {
    const bulk = mapsOf(c.pid).find((m) => m.name === "events");
    expect(bulk).toBeDefined();
    // Stopped, so that the call's record waits in the ring for the thief.
    process.kill(c.pid, "SIGSTOP");
    [call] = trigger("uid", "65534");
    [skip] = trigger("skip-ring", String(bulk!.id));
    process.kill(c.pid, "SIGCONT");
    await c.stdoutHas('"cause":"ring"');
  } finally {
    const done = await c.stop();
    expect(done.exitCode).toBe(0);
    const found = findingLines(done.stdout).filter((o) => o.eventName === "monitor_tampered" && o.details.cause === "ring");
    expect(skip.skipped).toBeGreaterThan(0);
    expect(found.map((f) => [f.severity, f.details.ring, f.details.bytes, f.details.moves])).toEqual([["critical", "bulk", skip.skipped, 1]]);
    expect(done.stderr).toContain(`warning: another process moved the bulk ring's read position by ${skip.skipped} bytes`);
    // The skipped call is not in the log: the finding is all that says it happened.
    expect(jsonLines(done.stdout).filter((e) => e.hostProcessId === call.pid)).toEqual([]);
  }
});

test("the heartbeat: every hook answers each round, and its calls reach no output, whatever the filters, nor another capture's", async () => {
  // A second capture beside it, unfiltered, running until the first has
  // ended: it sees the first's heartbeat calls, and leaves them out.
  const beside = await Capture.start(["--heartbeat", "0.2", "-o", "json"]);
  const c = await Capture.start(["--comm", "mt-trigger", "--heartbeat", "0.2", "--duration", "3", "-o", "json"]);
  const truths = trigger("basic", notAModule());
  const done = await c.finished();
  const besideDone = await beside.stop();
  expect(jsonLines(besideDone.stdout).filter((e) => e.executable?.path === MODTRACE_PATH)).toEqual([]);
  expect(besideDone.stderr).toMatch(/\d+ heartbeat calls of other captures left out/);
  expect(done.exitCode).toBe(0);
  // The trigger's three calls, nothing of modtrace's own.
  expect(jsonLines(done.stdout).map((e) => [e.eventName, e.hostProcessId])).toEqual(truths.map((t) => [t.call, t.pid]));
  expect(done.stdout).not.toContain("mt_heartbeat");
  const [, rounds, answered] = /heartbeat: (\d+) rounds?, (\d+) answered by every hook/.exec(done.stderr)!.map(Number);
  expect(rounds).toBeGreaterThanOrEqual(3);
  expect(answered).toBe(rounds);
  // The trigger's own calls may raise findings; none rests on anything but them.
  const callIds = new Set(jsonLines(done.stdout).map((e) => e.callId));
  const findings = findingLines(done.stdout);
  expect(findings.filter((f) => f.eventName === "monitor_tampered")).toEqual([]);
  for (const f of findings) for (const e of f.evidence) expect(callIds.has(e.callId)).toBe(true);
});

test("kprobes switched off in debugfs: the heartbeat says so (monitor_tampered), where syscalls are hooked by kprobes", async () => {
  const kprobes = doctorReport().checks.find((x: any) => x.what === "kprobes");
  if (!kprobes?.ok) {
    console.log(`  no kprobes here (${kprobes?.detail}): nothing to switch off; the VM tier's kprobe run does this`);
    return;
  }
  const debugfs = "/sys/kernel/debug";
  if (!existsSync(`${debugfs}/kprobes`)) expect(Bun.spawnSync(["mount", "-t", "debugfs", "debugfs", debugfs]).exitCode).toBe(0);
  const enabled = `${debugfs}/kprobes/enabled`;
  const c = await Capture.start(["--attach", "kprobe", "--heartbeat", "0.5", "-o", "json"]);
  let done;
  try {
    await c.stderrHas("heartbeat every 0.5 s");
    const off = performance.now();
    writeFileSync(enabled, "0");
    try {
      await c.stderrHas("did not come back through");
      console.log(`  kprobes off: reported ${((performance.now() - off) / 1000).toFixed(1)} s later (heartbeat every 0.5 s)`);
    } finally {
      writeFileSync(enabled, "1");
    }
    await c.stderrHas("reports again");
  } finally {
    done = await c.stop();
  }
  // kprobes can go off between two calls of one round: that round names the
  // hooks it missed, the next the rest, so the hooks are those of them all.
  const tampered = findingLines(done.stdout).filter((f) => f.eventName === "monitor_tampered");
  expect(tampered.length).toBeGreaterThan(0);
  for (const f of tampered) {
    expect(f.severity).toBe("critical");
    expect(f.details.cause).toBe("heartbeat");
  }
  expect(tampered.flatMap((f) => f.details.silent)).toEqual(expect.arrayContaining(["init_module", "finit_module", "delete_module"]));
});
