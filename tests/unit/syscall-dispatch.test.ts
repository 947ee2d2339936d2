// The syscall_dispatch_changed watch on a synthetic kernel: a kcore-like ELF
// file with one PT_LOAD segment holding a syscall table and an x64_sys_call
// made of jmp rel32 instructions, and a kallsyms text naming them.
import { beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, openSync, readFileSync, writeSync, closeSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileOffset, parseSegments, readKernel } from "../../findings/watches/kcore";
import { describeAddress, parseKallsyms, symbolExtent } from "../../findings/watches/kallsyms";
import { codeOwner, inModuleArea, ownersNow, ownerWords, parseModuleRanges, rangeOwner } from "../../findings/watches/module-ranges";
import { ModuleLoads } from "../../findings/watches/module-loads";
import { syscallDispatchWatch } from "../../findings/watches/syscall-dispatch";
import type { Finding } from "../../findings/finding";
import { fakeEvent } from "../lib/fake-event";
import { elfHeader } from "../lib/fake-kcore";

const BASE = 0xffffffff81000000n; // where the segment starts
const DATA_AT = 0x2000; // its file offset
const TABLE = BASE + 0x100n;
const FN = BASE + 0x400n;
const READ = BASE + 0x800n, GETPPID = BASE + 0x900n, NI = BASE + 0xa00n;
// The kernel's boot-time record of each handler's number (struct syscall_metadata).
const META_READ = BASE + 0xc00n, META_GETPPID = BASE + 0xc20n;
const FN32 = BASE + 0x600n, GETPPID32 = BASE + 0xb00n; // the 32-bit switch and its getppid
const HOOK = 0xffffffffc0001000n; // in a module
const hex = (a: bigint) => a.toString(16).padStart(16, "0");

const KALLSYMS = [
  `${hex(BASE)} T _text`,
  `${hex(TABLE)} D sys_call_table`,
  `${hex(TABLE + 4n * 8n)} D ia32_sys_call_table`,
  `${hex(FN)} T x64_sys_call`,
  `${hex(FN + 0x20n)} t __do_sys_ni_syscall`,
  `${hex(FN32)} T ia32_sys_call`,
  `${hex(FN32 + 0x20n)} t __do_sys_getppid`,
  `${hex(GETPPID32)} T __ia32_sys_getppid`,
  `${hex(READ)} T __x64_sys_read`,
  `${hex(GETPPID)} T __x64_sys_getppid`,
  `${hex(NI)} T __x64_sys_ni_syscall`,
  `${hex(META_READ)} d __syscall_meta__read`,
  `${hex(META_GETPPID)} d __syscall_meta__getppid`,
  `${hex(HOOK)} t mt_hook\t[mt_hook_dispatch]`,
  "",
].join("\n");

function jmp(at: bigint, to: bigint): number[] {
  const rel = Number(to - (at + 5n));
  const b = new Uint8Array(5);
  b[0] = 0xe9;
  new DataView(b.buffer).setInt32(1, rel, true);
  return [...b];
}

class FakeKernel {
  dir = mkdtempSync(join(tmpdir(), "modtrace-kcore-"));
  kcore = join(this.dir, "kcore");
  kallsyms = join(this.dir, "kallsyms");
  constructor(opts: { metadata?: boolean } = {}) {
    writeFileSync(this.kcore, new Uint8Array(DATA_AT + 0x1000));
    this.poke(0n, elfHeader(BASE, 0x1000n, BigInt(DATA_AT)), true);
    writeFileSync(this.kallsyms, opts.metadata === false ? KALLSYMS.replace(/^.*__syscall_meta__.*\n/gm, "") : KALLSYMS);
    this.meta(META_READ, 0);
    this.meta(META_GETPPID, 3);
    // Table: read, ni, ni, getppid. The switch: cmp-ish filler, then jumps.
    this.table(0, READ); this.table(1, NI); this.table(2, NI); this.table(3, GETPPID);
    this.poke(FN, new Uint8Array([0x83, 0xfe, 0x03, ...jmp(FN + 3n, READ), 0x90, ...jmp(FN + 9n, GETPPID), ...jmp(FN + 14n, NI)]));
    this.ia32(GETPPID32);
  }
  /** The 32-bit switch's one case: a jump at ia32_sys_call+4. */
  ia32(to: bigint) {
    this.poke(FN32, new Uint8Array([0x83, 0xf8, 0x40, 0x90, ...jmp(FN32 + 4n, to)]));
  }
  meta(at: bigint, nr: number) {
    const b = new Uint8Array(12);
    new DataView(b.buffer).setInt32(8, nr, true);
    this.poke(at, b);
  }
  table(i: number, to: bigint, at = TABLE) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, to, true);
    this.poke(at + BigInt(8 * i), b);
  }
  poke(addr: bigint, bytes: Uint8Array, raw = false) {
    const fd = openSync(this.kcore, "r+");
    writeSync(fd, bytes, 0, bytes.length, raw ? Number(addr) : DATA_AT + Number(addr - BASE));
    closeSync(fd);
  }
}

test("kcore: PT_LOAD segments of an ELF64 header, and a virtual address's file offset", () => {
  const segs = parseSegments(elfHeader(BASE, 0x1000n, 0x2000n));
  expect(segs).toEqual([{ vaddr: BASE, memsz: 0x1000n, offset: 0x2000n }]);
  expect(fileOffset(segs, BASE + 0x10n, 8)).toBe(0x2010n);
  expect(fileOffset(segs, BASE + 0xffcn, 8)).toBeUndefined(); // runs past the segment
  expect(() => parseSegments(new Uint8Array(64))).toThrow("not an ELF file");
});

test("kcore: reads kernel memory by virtual address", () => {
  const k = new FakeKernel();
  const [t] = readKernel(k.kcore, [{ addr: TABLE + 24n, len: 8 }]);
  expect(new DataView(t.buffer).getBigUint64(0, true)).toBe(GETPPID);
  expect(() => readKernel(k.kcore, [{ addr: BASE - 8n, len: 8 }])).toThrow("maps no 8 bytes");
});

test("kallsyms: a symbol's extent up to the next core symbol; an address's symbol and module", () => {
  const syms = parseKallsyms(KALLSYMS);
  expect(symbolExtent(syms, "sys_call_table")).toEqual({ addr: TABLE, size: 32 });
  expect(symbolExtent(syms, "x64_sys_call")).toEqual({ addr: FN, size: 0x20 });
  expect(describeAddress(syms, HOOK + 4n)).toEqual({ text: "mt_hook+0x4 [mt_hook_dispatch]", module: "mt_hook_dispatch", offset: 4n });
  expect(describeAddress(syms, 0x1000n)).toBeUndefined();
});

describe("the watch", () => {
  let k: FakeKernel;
  let found: Finding[];
  const report = (f: Finding) => found.push(f);
  beforeEach(() => {
    k = new FakeKernel();
    found = [];
  });
  const watch = () => {
    const w = syscallDispatchWatch({ kcore: k.kcore, kallsyms: k.kallsyms });
    expect(w.unavailable).toBeUndefined();
    w.observe(fakeEvent({ eventName: "module_load", module: "mt_hook", callId: 5n, timestamp: 50n }));
    w.observe(fakeEvent({ eventName: "do_init_module", module: "mt_hook", ret: 0, timestamp: 60n }));
    return w;
  };

  test("unchanged: nothing", () => {
    const w = watch();
    w.scan(1n, report);
    expect(found).toEqual([]);
  });

  test("a table entry rewritten during capture: syscall_hooked, naming the syscall, its own handler and the hook's module, once", () => {
    const w = watch();
    w.scan(1n, report);
    k.table(3, HOOK);
    w.scan(100n, report);
    w.scan(200n, report);
    expect(found.length).toBe(1);
    expect(found[0]).toMatchObject({ rule: "syscall_hooked", severity: "critical", moduleName: "mt_hook_dispatch", timestamp: 100n });
    expect(found[0].details).toEqual({
      where: "sys_call_table",
      syscall: "getppid",
      number: 3,
      expected: "__x64_sys_getppid",
      actual: [`0x${hex(HOOK)} mt_hook [mt_hook_dispatch]`],
      targetModules: ["mt_hook_dispatch"],
      inPlaceAtStart: false,
    });
  });

  test("a hook in place before the capture: found by the first scan; its removal is syscall_hook_removed, not a change", () => {
    k.table(3, HOOK);
    k.poke(FN + 9n, new Uint8Array(jmp(FN + 9n, HOOK)));
    const w = watch();
    w.scan(1n, report);
    expect(found.map((f) => [f.rule, f.details!.where, f.details!.syscall, f.details!.inPlaceAtStart, f.moduleName])).toEqual([
      ["syscall_hooked", "sys_call_table", "getppid", true, "mt_hook_dispatch"],
      ["syscall_hooked", "x64_sys_call", "getppid", true, "mt_hook_dispatch"],
    ]);
    expect(found[1].details!.actual).toEqual([`0x${hex(HOOK)} mt_hook [mt_hook_dispatch]`]);
    expect(found[0].description).toContain("in place when the capture started");
    found = [];
    k.table(3, GETPPID);
    k.poke(FN + 9n, new Uint8Array(jmp(FN + 9n, GETPPID)));
    w.scan(100n, report);
    expect(found.map((f) => [f.rule, f.severity, f.details!.where, f.details!.syscall, f.details!.expected])).toEqual([
      ["syscall_hook_removed", "high", "sys_call_table", "getppid", "__x64_sys_getppid"],
      ["syscall_hook_removed", "high", "x64_sys_call", "getppid", "__x64_sys_getppid"],
    ]);
  });

  test("ia32_sys_call_table (kernels before 6.9 and 6.1.85): an entry that is no 32-bit entry point of the kernel's own, found in place at the start, by its i386 number; put back: removed", () => {
    const IA32_TABLE = TABLE + 4n * 8n;
    k.table(0, GETPPID32, IA32_TABLE);
    k.table(1, HOOK, IA32_TABLE);
    k.table(2, GETPPID32, IA32_TABLE);
    const w = watch();
    w.scan(1n, report);
    expect(found.map((f) => [f.rule, f.moduleName, f.details!.where, f.details!.number, f.details!.syscall, f.details!.inPlaceAtStart, f.details!.actual])).toEqual([
      ["syscall_hooked", "mt_hook_dispatch", "ia32_sys_call_table", 1, "i386 #1", true, [`0x${hex(HOOK)} mt_hook [mt_hook_dispatch]`]],
    ]);
    found = [];
    k.table(1, GETPPID32, IA32_TABLE);
    w.scan(100n, report);
    // Restored: a removal, and no change left unexplained.
    expect(found.map((f) => [f.rule, f.details!.where, f.details!.number])).toEqual([["syscall_hook_removed", "ia32_sys_call_table", 1]]);
    found = [];
    // Rewritten during the capture: a new hook, and the baseline's changed entry explained by it.
    k.table(2, HOOK, IA32_TABLE);
    w.scan(200n, report);
    expect(found.map((f) => [f.rule, f.details!.where, f.details!.number, f.details!.inPlaceAtStart])).toEqual([["syscall_hooked", "ia32_sys_call_table", 2, false]]);
  });

  test("a jump in x64_sys_call retargeted: the syscall it served and where it goes now", () => {
    const w = watch();
    k.poke(FN + 9n, new Uint8Array(jmp(FN + 9n, HOOK)));
    w.scan(100n, report);
    expect(found.length).toBe(1);
    expect(found[0]).toMatchObject({ rule: "syscall_hooked", moduleName: "mt_hook_dispatch" });
    expect(found[0].details).toMatchObject({ where: "x64_sys_call", syscall: "getppid", number: 3, expected: "__x64_sys_getppid", targetModules: ["mt_hook_dispatch"] });
  });

  test("an entry moved to another core handler: syscall_hooked with the boot record; only the baseline sees it without", () => {
    const w = watch();
    k.table(3, READ);
    w.scan(100n, report);
    expect(found.map((f) => [f.rule, f.details!.syscall, f.details!.actual])).toEqual([["syscall_hooked", "getppid", [`0x${hex(READ)} __x64_sys_read`]]]);

    const bare = new FakeKernel({ metadata: false });
    found = [];
    const w2 = syscallDispatchWatch({ kcore: bare.kcore, kallsyms: bare.kallsyms });
    bare.table(3, READ);
    w2.scan(100n, report);
    expect(found.map((f) => [f.rule, f.details!.changes])).toEqual([["syscall_dispatch_changed", ["getppid (3): __x64_sys_getppid -> 0x" + hex(READ) + " __x64_sys_read"]]]);
    // A target that is no core handler is still a hook without the record: the number is all it can name.
    bare.table(2, HOOK);
    found = [];
    w2.scan(200n, report);
    expect(found.map((f) => [f.rule, f.details!.syscall, f.details!.expected])).toEqual([["syscall_hooked", "#2", "a __x64_sys_* handler of the kernel's own"]]);
  });

  test("other bytes of x64_sys_call changed: reported as such", () => {
    const w = watch();
    k.poke(FN, new Uint8Array([0xcc]));
    w.scan(100n, report);
    expect(found[0].details!.changes).toEqual(["?: x64_sys_call+0x0 -> 1 byte(s) changed, not a known jump"]);
  });

  test("a jump being patched (text_poke_bp's int3 on its opcode) is judged once the patch is done", () => {
    const w = watch();
    const bytes = jmp(FN + 9n, HOOK);
    k.poke(FN + 9n, new Uint8Array([0xcc, ...bytes.slice(1)]));
    w.scan(100n, report);
    expect(found).toEqual([]);
    k.poke(FN + 9n, new Uint8Array(bytes));
    w.scan(200n, report);
    expect(found.map((f) => [f.rule, f.details!.where, f.details!.syscall])).toEqual([["syscall_hooked", "x64_sys_call", "getppid"]]);
  });

  test("an int3 that stays on a jump (a kprobe's) is judged after three scans", () => {
    const w = watch();
    k.poke(FN + 9n, new Uint8Array([0xcc]));
    for (const t of [1n, 2n, 3n]) w.scan(t, report);
    expect(found).toEqual([]);
    // Judged at the fourth; a hook with no target to name waits one scan more.
    for (const t of [4n, 5n]) w.scan(t, report);
    expect(found.map((f) => f.description)).toEqual(["x64_sys_call: getppid (3) no longer reaches it by a direct jump, not its own handler __x64_sys_getppid"]);
  });

  test("no kcore, or kallsyms without addresses: unavailable, and says why", () => {
    expect(syscallDispatchWatch({ kcore: join(k.dir, "none"), kallsyms: k.kallsyms }).unavailable).toContain("CONFIG_PROC_KCORE=n");
    const hidden = join(k.dir, "hidden");
    writeFileSync(hidden, KALLSYMS.replace(/^[0-9a-f]{16}/gm, "0000000000000000"));
    expect(syscallDispatchWatch({ kcore: k.kcore, kallsyms: hidden }).unavailable).toContain("shows no addresses");
  });

  test("the 32-bit switch (ia32_sys_call) jumping into a module, in place at the start: syscall_hooked by the jump's offset; restored: syscall_hook_removed", () => {
    k.ia32(HOOK);
    const w = watch();
    w.scan(1n, report);
    expect(found.map((f) => [f.rule, f.details?.where, f.details?.number, f.details?.inPlaceAtStart, f.moduleName])).toEqual([["syscall_hooked", "ia32_sys_call", 4, true, "mt_hook_dispatch"]]);
    expect(found[0].description).toContain("a 32-bit syscall (the jump at ia32_sys_call+0x4) goes to 0x" + hex(HOOK) + " mt_hook [mt_hook_dispatch]");
    k.ia32(GETPPID32);
    w.scan(100n, report);
    expect(found.slice(1).map((f) => [f.rule, f.details?.where, f.details?.number])).toEqual([["syscall_hook_removed", "ia32_sys_call", 4]]);
  });

  test("the 32-bit switch retargeted during the capture: syscall_hooked, and no unexplained change beside it", () => {
    const w = watch();
    w.scan(1n, report);
    k.ia32(HOOK);
    w.scan(100n, report);
    w.scan(200n, report);
    expect(found.map((f) => [f.rule, f.details?.where, f.details?.inPlaceAtStart])).toEqual([["syscall_hooked", "ia32_sys_call", false]]);
  });

  test("the 32-bit switch's jump moved to another core function: no hook to name, a change since the start", () => {
    const w = watch();
    w.scan(1n, report);
    k.ia32(READ);
    w.scan(100n, report);
    expect(found.map((f) => [f.rule, f.details?.where])).toEqual([["syscall_dispatch_changed", "ia32_sys_call"]]);
    expect(found[0].description).toContain("__ia32_sys_getppid -> 0x" + hex(READ) + " __x64_sys_read");
  });

  test("kallsyms read while a module unloads, missing a hooking module's symbols: a known hook is not reported again", () => {
    k.ia32(HOOK);
    k.poke(FN + 9n, new Uint8Array(jmp(FN + 9n, HOOK)));
    const w = watch();
    w.scan(1n, report);
    expect(found.map((f) => [f.rule, f.details?.where])).toEqual([["syscall_hooked", "x64_sys_call"], ["syscall_hooked", "ia32_sys_call"]]);
    // The 32-bit hook's module leaves; the read of kallsyms lists no module symbol at all.
    k.ia32(GETPPID32);
    writeFileSync(k.kallsyms, KALLSYMS.replace(/^.*\[mt_hook_dispatch\]\n/m, ""));
    w.scan(100n, report);
    expect(found.slice(2).map((f) => [f.rule, f.details?.where])).toEqual([["syscall_hook_removed", "ia32_sys_call"]]);
  });

  test("a new hook whose module kallsyms does not list yet: reported once, at the next scan, with where it goes", () => {
    const w = watch();
    const listed = readFileSync(k.kallsyms, "utf8");
    writeFileSync(k.kallsyms, listed.replace(/^.*\[mt_hook_dispatch\]\n/m, ""));
    k.poke(FN + 9n, new Uint8Array(jmp(FN + 9n, HOOK)));
    w.scan(100n, report);
    expect(found).toEqual([]); // no target named yet: it waits, and no baseline change is said either
    writeFileSync(k.kallsyms, listed);
    w.scan(200n, report);
    expect(found.map((f) => [f.rule, f.details?.where, f.details?.targetModules])).toEqual([["syscall_hooked", "x64_sys_call", ["mt_hook_dispatch"]]]);
    w.scan(300n, report);
    expect(found.length).toBe(1);
  });

  test("a new hook that waited and is gone by the next scan: found and gone, both said", () => {
    const w = watch();
    const listed = readFileSync(k.kallsyms, "utf8");
    writeFileSync(k.kallsyms, listed.replace(/^.*\[mt_hook_dispatch\]\n/m, ""));
    k.poke(FN + 9n, new Uint8Array(jmp(FN + 9n, HOOK)));
    w.scan(100n, report);
    k.poke(FN + 9n, new Uint8Array(jmp(FN + 9n, GETPPID)));
    w.scan(200n, report);
    expect(found.map((f) => [f.rule, f.details?.where])).toEqual([["syscall_hooked", "x64_sys_call"], ["syscall_hook_removed", "x64_sys_call"]]);
  });
});


test("module ranges: /proc/modules' base and size say whose memory an address is in; the module area outside them is no listed module's", () => {
  const ranges = parseModuleRanges(["mt_plain 16384 0 - Live 0xffffffffc0a00000 (OE)", "hidden_by_kptr 16384 0 - Live 0x0000000000000000", "8021q 40960 0 - Live 0xffffffffc0b00000"].join("\n"));
  expect(ranges.map((r) => r.name)).toEqual(["mt_plain", "8021q"]);
  expect(rangeOwner(ranges, 0xffffffffc0a00010n)).toBe("mt_plain");
  expect(rangeOwner(ranges, 0xffffffffc0a04000n)).toBeUndefined(); // one past its end
  expect(rangeOwner(ranges, 0xffffffffc0b09fffn)).toBe("8021q");
  expect(inModuleArea(0xffffffffc0564500n)).toBe(true);
  expect(inModuleArea(0xffffffff81234567n)).toBe(false);
});

test("code owners: a listed module by its range, an unlisted one by the code range its module_load recorded, else module memory no listed module owns", () => {
  const loads = new ModuleLoads();
  const load = (module: string, callId: bigint, args?: bigint[]) => {
    loads.observe(fakeEvent({ eventName: "module_load", module, callId, timestamp: callId, args }));
    loads.observe(fakeEvent({ eventName: "do_init_module", module, callId, timestamp: callId }));
  };
  load("mt_plain", 1n, [0xffffffffc0a00000n, 0x2000n]);
  load("rk", 2n, [0xffffffffc0c00000n, 0x3000n]);
  load("old_log", 3n); // no range recorded
  const file = join(mkdtempSync(join(tmpdir(), "modtrace-owners-")), "modules");
  writeFileSync(file, "mt_plain 16384 0 - Live 0xffffffffc0a00000 (OE)\n8021q 40960 0 - Live 0xffffffffc0b00000\n");
  const who = ownersNow(loads, file);
  expect(who.unlisted.map((l) => l.name)).toEqual(["rk", "old_log"]);
  expect(codeOwner(0xffffffffc0a00010n, who)).toEqual({ module: "mt_plain", by: "listed" });
  expect(codeOwner(0xffffffffc0c02ff0n, who)).toEqual({ module: "rk", by: "seen" });
  // Past rk's code: it could be old_log's, or another hidden module's; no guess.
  expect(codeOwner(0xffffffffc0c03000n, who)).toEqual({ unowned: ["old_log"] });
  expect(ownerWords(codeOwner(0xffffffffc0c02ff0n, who)!)).toBe("in the code of module rk, which this capture saw load and which has left the module list");
  expect(codeOwner(0xffffffff81234567n, who)).toBeUndefined(); // core kernel text: kallsyms' to name
  // The one module gone from the list, with no range recorded: it, said as a deduction.
  const one = new ModuleLoads();
  one.observe(fakeEvent({ eventName: "do_init_module", module: "old_log", timestamp: 1n }));
  expect(codeOwner(0xffffffffc0d00000n, ownersNow(one, file))).toEqual({ module: "old_log", by: "only_unlisted" });
  // kptr_restrict hides the addresses, not the names: a listed module is not "gone", and its recorded range still names it.
  writeFileSync(file, "mt_plain 16384 0 - Live 0x0000000000000000 (OE)\n");
  const hidden = ownersNow(loads, file);
  expect(hidden.unlisted.map((l) => l.name)).toEqual(["rk", "old_log"]);
  expect(codeOwner(0xffffffffc0a00010n, hidden)).toBeUndefined();
  expect(codeOwner(0xffffffffc0c00010n, hidden)).toEqual({ module: "rk", by: "seen" });
});
