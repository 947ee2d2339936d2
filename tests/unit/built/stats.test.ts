// `modtrace stats` on the fleet fixtures captured in the VM (tests/fixtures/vm):
// each module's distinct images, counted from the events themselves here;
// and a large set read on two cores against one.
import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { writeFleetLogs } from "../../../bench/fleet-logs";
import { readLog } from "../../../log/reader";
import { Tally } from "../../../log/tally";
import { Decoder } from "../../../decoder/host";
import { describeEnd, MODTRACE, runModtrace } from "../../lib/modtrace";

const DIR = "tests/fixtures/vm/web-2";
const files = readdirSync(DIR).filter((f) => f.endsWith(".cbor")).sort().map((f) => join(DIR, f));

test("stats lists each module's distinct images with their loads; web-2's rebuilt 8021q shows as a second image", () => {
  // Load calls (failed ones too) per (module, sha256): the syscall and its module_load share a callId.
  const loads = new Map<string, Set<string>>();
  for (const file of files)
    for (const item of readLog(file, [])) {
      if (item.kind !== "event") continue;
      const e: any = item.value;
      if (!e.sha256 || e.eventName === "module_load") continue;
      // A load refused before the kernel named the module (EEXIST) goes by its file's name.
      const name = e.moduleName ?? basename(e.args.find((a: any) => a.name === "pathname").value, ".ko");
      const key = `${name} ${Buffer.from(e.sha256).toString("hex")}`;
      loads.set(key, (loads.get(key) ?? new Set()).add(String(e.callId)));
    }
  const run = runModtrace(["stats", "--json", ...files]);
  expect(run.exitCode, describeEnd(run)).toBe(0);
  const images: Record<string, { sha256: string; loads: number; size: number; first: string; last: string }[]> = JSON.parse(run.stdout).images;
  const listed = Object.entries(images).flatMap(([name, list]) => list.map((i) => [`${name} ${i.sha256}`, i.loads] as const));
  expect(new Map(listed)).toEqual(new Map([...loads].map(([k, calls]) => [k, calls.size])));
  expect(images["8021q"].length).toBe(2);
  for (const list of Object.values(images)) for (const i of list) expect(i.first <= i.last).toBe(true);
  const text = runModtrace(["stats", ...files]).stdout;
  expect(text).toContain("8021q: 2 DIFFERENT IMAGES under one name");
});

test("a summary larger than a pipe holds reaches the reader whole", () => {
  // 700 hosts' logs: some 200 KB of --json, where a pipe takes 64-128 KiB at a
  // time (the output was cut at 128 KiB when the process exited with it queued).
  const dir = mkdtempSync(join(tmpdir(), "modtrace-stats-"));
  const logs = writeFleetLogs(dir, 700, 40);
  // Through a shell's pipe, as a user's `| jq` would read it.
  const run = Bun.spawnSync(["bash", "-c", 'set -o pipefail; "$0" stats --json "$@" | cat', MODTRACE, ...logs], { stdout: "pipe", stderr: "pipe" });
  expect(run.exitCode, run.stderr.toString()).toBe(0);
  expect(run.stdout.length).toBeGreaterThan(1 << 17);
  expect(JSON.parse(run.stdout.toString()).events).toBe(700 * 40);
});

describe("a large set on two cores", () => {
  // 80 hosts' logs, 37 MB: over the 32 MiB from which stats reads the later
  // files in a second thread. Damaged files on both sides of the cut.
  const dir = mkdtempSync(join(tmpdir(), "modtrace-stats-threads-"));
  const logs = writeFleetLogs(dir, 80, 500);
  truncateSync(logs[10], Math.floor(statSync(logs[10]).size / 2));
  truncateSync(logs[70], statSync(logs[70]).size - 7);
  appendFileSync(logs[75], Buffer.from("not a log item"));

  const stats = (threads: string, files: string[]) => {
    const run = runModtrace(["stats", "--json", "--threads", threads, ...files]);
    return { exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr };
  };

  test("the counts of two threads are one thread's, byte for byte, problems and images included", () => {
    // Two threads only where two cores may run them: this machine must offer them, or nothing here is tested.
    expect(availableParallelism()).toBeGreaterThan(1);
    const one = stats("1", logs);
    expect(one.exitCode).toBe(1); // the damage is reported
    expect(JSON.parse(one.stdout).events).toBeGreaterThan(70 * 500);
    expect(stats("2", logs)).toEqual(one);
  });

  test("a file given twice (its loads' calls on both sides of the cut): still one thread's counts", () => {
    const files = [...logs, logs[3]];
    expect(stats("2", files)).toEqual(stats("1", files));
  });

  test("Tally.merge: the later files' counts merged are the counts of reading them all; refused where a load was counted on both sides", async () => {
    const decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
    const filter = { pids: [], comms: [] };
    const all = new Tally(filter, decoder);
    for (const f of logs) all.readFile(f);
    const first = new Tally(filter, decoder);
    const later = new Tally(filter, decoder);
    for (const f of logs.slice(0, 40)) first.readFile(f);
    for (const f of logs.slice(40)) later.readFile(f);
    expect(first.merge(structuredClone(later.half()))).toBe(true);
    const iso = (ns: bigint) => String(ns);
    expect(first.state).toEqual(all.state);
    expect(JSON.stringify(first.images.summary(iso))).toBe(JSON.stringify(all.images.summary(iso)));
    // The same files again: every load's call is on both sides.
    const again = new Tally(filter, decoder);
    for (const f of logs.slice(40)) again.readFile(f);
    const before = structuredClone(first.state);
    expect(first.merge(structuredClone(again.half()))).toBe(false);
    expect(first.state).toEqual(before);
  });
});
