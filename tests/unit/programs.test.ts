// The programs the loader names (loader/events.ts) against the ones the BPF
// object holds: a name that drifted would fail at capture time on one attach
// mode only, so it is checked here, for every mode.
import { expect, test } from "bun:test";
import { ALL_PROGRAMS } from "../../loader/events";

test("every program the loader can ask for is in build/modtrace.bpf.o", () => {
  const dump = Bun.spawnSync(["bpftool", "-j", "btf", "dump", "file", "build/modtrace.bpf.o"], { stdout: "pipe", stderr: "pipe" });
  expect(dump.exitCode).toBe(0);
  const functions = new Set((JSON.parse(dump.stdout.toString()).types as any[]).filter((t) => t.kind === "FUNC").map((t) => t.name));
  expect(ALL_PROGRAMS.length).toBeGreaterThan(10);
  expect(ALL_PROGRAMS.filter((p) => !functions.has(p))).toEqual([]);
});
