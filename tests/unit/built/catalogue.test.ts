// The event catalogue (catalogue/) against what the build made of it: the BPF
// object's programs, the constants the decoder and the shim were generated
// with. Each side is generated, so a failure here is a stale build or a
// generator that lost something; the decoder fixtures check the output.
import { expect, test } from "bun:test";
import { EVENTS, SYSCALL_PREFIX, constantName } from "../../../catalogue/events";
import { readFileSync } from "node:fs";
import { ALL_PROGRAMS } from "../../../catalogue/programs";
import * as layout from "../../../record/layout";
import { PROGRAM_NAMES } from "../../../loader/generated/programs";
import { cText, native } from "../../../loader/native";
import { programId } from "../../../loader/program-ids";

const OBJECT = "build/modtrace.bpf.o";

function run(args: string[]): string {
  const r = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  return r.stdout.toString();
}

/** The object's BPF programs: its global functions outside .text (where the
 * global subprograms that programs call live). */
function objectPrograms(): string[] {
  const text = /\[\s*(\d+)\]\s+\.text\s/.exec(run(["readelf", "-SW", OBJECT]))?.[1];
  return run(["readelf", "-sW", OBJECT])
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === "FUNC" && f[4] === "GLOBAL" && f[6] !== text)
    .map((f) => f[7]);
}

test("the object's programs are exactly the catalogue's", () => {
  const programs = objectPrograms();
  expect(programs.length).toBeGreaterThan(10);
  expect([...programs].sort()).toEqual([...ALL_PROGRAMS].sort());
});

test("the loader's program table is the catalogue's, and names nothing else", () => {
  expect(PROGRAM_NAMES).toEqual(ALL_PROGRAMS);
  expect(() => programId("fentry_no_such_event")).toThrow(/program table has no fentry_no_such_event/);
});

test("the shim opens the object: its programs are the table's and it has every map the loader names", () => {
  // Opening parses the object without the kernel: no privileges needed.
  const lib = native();
  const bytes = readFileSync(OBJECT);
  const err = Buffer.alloc(4096);
  const handle = lib.mt_open(bytes, bytes.length, 1 << 20, 4096, err, err.length);
  expect(cText(err)).toBe("");
  expect(handle).toBeTruthy();
  lib.mt_close(handle);
});

test("enum mt_event and the syscall numbers the BPF side was built with are the catalogue's", () => {
  const constants = layout as unknown as Record<string, number>;
  for (const e of EVENTS) {
    expect(constants[`EVENT_${constantName(e)}`]).toBe(e.id);
    if (e.kind === "syscall") expect(constants[`NR_${constantName(e)}`]).toBe(e.syscall!);
  }
  expect(layout.EVENT_COUNT).toBe(Math.max(...EVENTS.map((e) => e.id)) + 1);
  // The fentry programs of the syscalls are named after the functions they hook.
  const sections = run(["readelf", "-SW", OBJECT]);
  for (const e of EVENTS.filter((x) => x.kind === "syscall")) expect(sections).toContain(`fentry/${SYSCALL_PREFIX}${e.name}`);
});
