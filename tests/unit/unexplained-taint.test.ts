// taint_unexplained on /proc texts written here: which module taint bits are
// new, which a listed module or a seen module_load explains, and one finding
// per bit. The letters are the kernel's (kernel/panic.c, taint_flags).
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { listedTaints, unexplainedBits, unexplainedTaintWatch } from "../../findings/watches/unexplained-taint";
import type { Finding } from "../../findings/finding";
import { fakeEvent } from "../lib/fake-event";

const O = 1n << 12n, E = 1n << 13n, C = 1n << 10n, W = 1n << 9n;

test("listed modules' flags are read from the end of their /proc/modules lines", () => {
  const text = [
    "mt_plain 16384 0 - Live 0xffffffffc0a00000 (OE)",
    "dummy 16384 0 - Live 0xffffffffc0a10000",
    "r8188eu 614400 0 - Live 0xffffffffc0b00000 (C)",
    "going 16384 0 - Unloading 0xffffffffc0c00000 (O-)",
  ].join("\n");
  expect(listedTaints(text)).toBe(O | E | C);
  expect(listedTaints("dummy 16384 0 - Live 0xffffffffc0a10000\n")).toBe(0n);
});

test("only module bits new since the start and explained by nothing count", () => {
  expect(unexplainedBits(O | E, O | E | C, 0n).map((b) => b.letter)).toEqual(["C"]);
  expect(unexplainedBits(0n, O | E | C, O | E)).toEqual([expect.objectContaining({ letter: "C", bit: 10 })]);
  expect(unexplainedBits(0n, O | E, O | E)).toEqual([]);
  expect(unexplainedBits(0n, W, 0n)).toEqual([]); // a warning is no module's doing
  expect(unexplainedBits(C, C, 0n)).toEqual([]); // there before the capture
});

test("the watch: a new bit no load carries is reported once; one a seen module_load carries is not", () => {
  const dir = mkdtempSync(join(tmpdir(), "taint-"));
  const tainted = join(dir, "tainted");
  const modules = join(dir, "modules");
  writeFileSync(tainted, `${O | E}\n`);
  writeFileSync(modules, "dummy 16384 0 - Live 0xffffffffc0a10000\n");
  const watch = unexplainedTaintWatch({ tainted, procModules: modules });
  expect(watch.unavailable).toBeUndefined();
  const found: Finding[] = [];
  // O and E were set before the start, and no listed module carries them: reported at the first scan, medium.
  watch.scan(1n, (f) => found.push(f));
  expect(found.map((f) => [f.details!.letter, f.severity, f.details!.inPlaceAtStart])).toEqual([["O", "medium", true], ["E", "medium", true]]);
  writeFileSync(tainted, `${O | E | C}\n`);
  watch.scan(2n, (f) => found.push(f));
  watch.scan(3n, (f) => found.push(f));
  expect(found.slice(2).map((f) => [f.rule, f.details!.letter, f.severity, f.details!.inPlaceAtStart])).toEqual([["taint_unexplained", "C", "high", false]]);

  const seeing = unexplainedTaintWatch({ tainted, procModules: modules });
  writeFileSync(tainted, `${O | E | C | (1n << 1n)}\n`);
  seeing.observe(fakeEvent({ eventName: "module_load", timestamp: 1n, taints: 1n << 1n }));
  const seen: Finding[] = [];
  seeing.scan(4n, (f) => seen.push(f));
  // F came with a load this capture saw: only the bits there at its start, which nothing listed explains.
  expect(seen.map((f) => f.details!.letter)).toEqual(["C", "O", "E"]);
});

test("a bit there at the start that a listed module carries is explained, whenever it was set", () => {
  const dir = mkdtempSync(join(tmpdir(), "taint-"));
  const tainted = join(dir, "tainted");
  const modules = join(dir, "modules");
  writeFileSync(tainted, `${O | E}\n`);
  writeFileSync(modules, "zfs 5000000 0 - Live 0xffffffffc0a10000 (POE)\n");
  const found: Finding[] = [];
  unexplainedTaintWatch({ tainted, procModules: modules }).scan(1n, (f) => found.push(f));
  expect(found).toEqual([]);
});

test("a kernel without modules says why", () => {
  expect(unexplainedTaintWatch({ tainted: "/nonexistent/tainted" }).unavailable).toContain("cannot load modules");
});
