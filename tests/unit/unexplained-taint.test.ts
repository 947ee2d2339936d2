// taint_unexplained on /proc texts written here: which module taint bits are
// new, which a listed module or a seen module_load explains, and one finding
// per bit. The letters are the kernel's (kernel/panic.c, taint_flags).
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { listedTaints, unexplainedBits, unexplainedTaintWatch } from "../../cmd/findings/watches/unexplained-taint";
import type { Finding } from "../../cmd/findings/finding";
import { fakeEvent } from "../lib/fake-event";
import * as layout from "../../decoder/assembly/generated/layout";

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
  watch.scan(1n, (f) => found.push(f));
  expect(found).toEqual([]);
  writeFileSync(tainted, `${O | E | C}\n`);
  watch.scan(2n, (f) => found.push(f));
  watch.scan(3n, (f) => found.push(f));
  expect(found.map((f) => [f.rule, f.details!.letter])).toEqual([["taint_unexplained", "C"]]);

  const seeing = unexplainedTaintWatch({ tainted, procModules: modules });
  writeFileSync(tainted, `${O | E | C | (1n << 1n)}\n`);
  seeing.observe({ ...fakeEvent({ eventName: "module_load", timestamp: 1n }), id: layout.EVENT_MODULE_LOAD, taints: 1n << 1n } as any);
  const none: Finding[] = [];
  seeing.scan(4n, (f) => none.push(f));
  expect(none).toEqual([]);
});

test("a kernel without modules says why", () => {
  expect(unexplainedTaintWatch({ tainted: "/nonexistent/tainted" }).unavailable).toContain("cannot load modules");
});
