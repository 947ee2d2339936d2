// `modtrace stats` on the fleet fixtures captured in the VM (tests/fixtures/vm):
// each module's distinct images, counted from the events themselves here.
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { writeFleetLogs } from "../../../bench/fleet-logs";
import { readLog } from "../../../log/reader";
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
