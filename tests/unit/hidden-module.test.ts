// The hidden_module watch on fixture files standing in for /proc/modules,
// /sys/module and /proc/vmallocinfo, fed events through the fields it reads.
import { beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hiddenModuleWatch, hiddenNow, parseProcModules, readKset } from "../../findings/watches/hidden-module";
import { moduleMemoryUnavailable, parseModuleAreas, unaccountedAreas } from "../../findings/watches/module-memory";
import type { Finding } from "../../findings/finding";
import { fakeEvent } from "../lib/fake-event";

const PROC = `dummy 16384 0 - Live 0xffffffffc0386000
mt_hide_kobj 12288 0 [permanent], Live 0xffffffffc038f000 (OE)
loading 16384 1 - Loading 0xffffffffc0390000
8021q 40960 0 - Live 0xffffffffc0391000
garp 16384 1 8021q, Live 0xffffffffc0392000
`;

// As a 6.1 kernel writes it (addresses hashed, kptr_restrict 0): the module
// loader's areas (move_module), a BPF pack and a ftrace trampoline beside
// them in the module space, an area freed and not yet purged.
const VMALLOCINFO = `0x000000009fc65187-0x000000008b2775a8   20480 load_module+0xbb7/0x21a0 pages=4 vmalloc N0=4
0x00000000db2aecb2-0x00000000dc918381   16384 load_module+0xbb7/0x21a0 pages=3 vmalloc N0=3
0x00000000aa2aecb2-0x00000000ab918381   45056 load_module+0xbb7/0x21a0 pages=10 vmalloc N0=10
0x00000000ba2aecb2-0x00000000bb918381   20480 load_module+0xbb7/0x21a0 pages=4 vmalloc N0=4
0x00000000ca2aecb2-0x00000000cb918381 2097152 bpf_prog_pack_alloc+0x1c8/0x220 pages=512 vmalloc N0=512
0x00000000da2aecb2-0x00000000db918381    8192 arch_ftrace_update_trampoline+0xf2/0x2a0 pages=1 vmalloc N0=1
0x00000000ea2aecb2-0x00000000eb918381    8192 unpurged vm_area
`;

function fixture(kset: Record<string, string | null>, proc = PROC, vmallocinfo = VMALLOCINFO) {
  const dir = mkdtempSync(join(tmpdir(), "modtrace-hidden-"));
  const sizes = new Map(proc.split("\n").filter(Boolean).map((l) => [l.split(" ")[0], l.split(" ")[1]]));
  for (const [name, initstate] of Object.entries(kset)) {
    mkdirSync(join(dir, "sys", name), { recursive: true });
    if (initstate === null) continue;
    writeFileSync(join(dir, "sys", name, "initstate"), `${initstate}\n`);
    writeFileSync(join(dir, "sys", name, "coresize"), `${sizes.get(name) ?? 16384}\n`);
  }
  mkdirSync(join(dir, "sys"), { recursive: true });
  writeFileSync(join(dir, "modules"), proc);
  writeFileSync(join(dir, "vmallocinfo"), vmallocinfo);
  return { procModules: join(dir, "modules"), sysModule: join(dir, "sys"), vmallocinfo: join(dir, "vmallocinfo"), kernelRelease: "6.1.0-44-amd64" };
}

test("/proc/modules: name, state and size of each line, [permanent] or not", () => {
  const list = parseProcModules(PROC);
  expect(list.states).toEqual(new Map([["dummy", "Live"], ["mt_hide_kobj", "Live"], ["loading", "Loading"], ["8021q", "Live"], ["garp", "Live"]]));
  expect(list.sizes.get("8021q")).toBe(40960);
  expect(list.twice.size).toBe(0);
});

test("/sys/module: loadable modules with their initstate and core size; built-in ones (no initstate) left out", () => {
  const f = fixture({ dummy: "live", vt: null, going: "going" });
  expect(readKset(f.sysModule)).toEqual({ states: new Map([["dummy", "live"], ["going", "going"]]), sizes: new Map([["dummy", 16384], ["going", 16384]]) });
});

describe("hiddenNow", () => {
  const kset = new Map([["dummy", "live"], ["8021q", "live"], ["garp", "live"], ["mt_hide_list", "live"], ["going", "going"]]);
  test("each view checked against the other; modules mid-load or mid-unload are not hidden", () => {
    expect(hiddenNow(parseProcModules(PROC).states, kset, [])).toEqual(new Map([["mt_hide_kobj", "module_kset"], ["mt_hide_list", "module_list"]]));
  });
  test("a module the events saw loaded and not freed that neither view has", () => {
    expect(hiddenNow(parseProcModules(PROC).states, kset, ["dummy", "ghost"]).get("ghost")).toBe("both");
  });
  test("consistent views hide nothing", () => {
    expect(hiddenNow(new Map([["dummy", "Live"]]), new Map([["dummy", "live"]]), ["dummy"]).size).toBe(0);
  });
});

describe("the watch", () => {
  let f: ReturnType<typeof fixture>;
  let found: Finding[];
  const report = (x: Finding) => found.push(x);
  beforeEach(() => {
    found = [];
    f = fixture({ dummy: "live", "8021q": "live", garp: "live", vt: null, mt_hide_list: "live" });
  });

  test("a module hiding from the list: reported once, after scans agree for two seconds, with its load events", () => {
    const w = hiddenModuleWatch(f);
    expect(w.unavailable).toBeUndefined();
    w.observe(fakeEvent({ eventName: "module_load", module: "mt_hide_list", callId: 7n, timestamp: 100n }));
    w.observe(fakeEvent({ eventName: "do_init_module", module: "mt_hide_list", ret: 0, timestamp: 110n }));
    w.observe(fakeEvent({ eventName: "finit_module", module: "mt_hide_list", callId: 7n, ret: 0, timestamp: 120n }));
    w.scan(1_000_000_000n, report);
    w.scan(2_000_000_000n, report);
    expect(found).toEqual([]);
    w.scan(3_000_000_000n, report);
    w.scan(4_000_000_000n, report);
    const byName = new Map(found.map((x) => [x.moduleName, x]));
    expect([...byName.keys()].sort()).toEqual(["mt_hide_kobj", "mt_hide_list"]);
    expect(found.length).toBe(2);
    const h = byName.get("mt_hide_list")!;
    expect(h).toMatchObject({ rule: "hidden_module", severity: "critical", techniques: ["T1014"], timestamp: 3_000_000_000n });
    expect(h.details).toMatchObject({ lacking: "module_list", loadedInCapture: true, initstate: "live" });
    expect(h.evidence.map((e) => [e.eventName, e.timestamp, e.callId])).toEqual([
      ["module_load", 100n, 7n], ["do_init_module", 110n, undefined], ["finit_module", 120n, 7n],
    ]);
    expect(byName.get("mt_hide_kobj")!.details).toMatchObject({ lacking: "module_kset", loadedInCapture: false });
  });

  test("a disagreement one scan saw and the next did not is not reported", () => {
    const w = hiddenModuleWatch(fixture({ dummy: "live", "8021q": "live", garp: "live", mt_hide_kobj: "live" }));
    w.observe(fakeEvent({ eventName: "module_load", module: "new", timestamp: 1n }));
    w.observe(fakeEvent({ eventName: "do_init_module", module: "new", ret: 0, timestamp: 2n }));
    w.scan(10n, report); // "new" in neither view yet as far as this scan knows
    w.observe(fakeEvent({ eventName: "module_free", module: "new", timestamp: 3n }));
    w.scan(20n, report);
    expect(found).toEqual([]);
  });

  test("an unload whose events lag, then a new load of the same name: two loads' disagreements do not add up", () => {
    // The flood case: dummy loaded, taken out of both views by rmmod, scanned
    // before the unload's events arrive; then loaded again and scanned in the
    // same gap of its own unload.
    const w = hiddenModuleWatch(fixture({ "8021q": "live", garp: "live", mt_hide_kobj: "live" }));
    w.observe(fakeEvent({ eventName: "module_load", module: "dummy", timestamp: 1n }));
    w.observe(fakeEvent({ eventName: "do_init_module", module: "dummy", ret: 0, timestamp: 2n }));
    w.scan(1_000_000_000n, report);
    w.observe(fakeEvent({ eventName: "delete_module", strArg: "dummy", ret: 0, timestamp: 3n }));
    w.observe(fakeEvent({ eventName: "module_load", module: "dummy", timestamp: 4n }));
    w.observe(fakeEvent({ eventName: "do_init_module", module: "dummy", ret: 0, timestamp: 5n }));
    w.scan(3_500_000_000n, report);
    w.observe(fakeEvent({ eventName: "delete_module", strArg: "dummy", ret: 0, timestamp: 6n }));
    w.scan(6_000_000_000n, report);
    expect(found).toEqual([]);
  });

  test("a load whose init failed, and a module unloaded, are not expected in the views", () => {
    const w = hiddenModuleWatch(fixture({ dummy: "live", "8021q": "live", garp: "live", mt_hide_kobj: "live" }));
    w.observe(fakeEvent({ eventName: "module_load", module: "fails", timestamp: 1n }));
    w.observe(fakeEvent({ eventName: "do_init_module", module: "fails", ret: -19, timestamp: 2n }));
    w.observe(fakeEvent({ eventName: "module_load", module: "gone", timestamp: 3n }));
    w.observe(fakeEvent({ eventName: "do_init_module", module: "gone", ret: 0, timestamp: 4n }));
    w.observe(fakeEvent({ eventName: "delete_module", strArg: "gone", ret: 0, timestamp: 5n }));
    w.scan(10n, report);
    w.scan(20n, report);
    expect(found).toEqual([]);
  });

  test("no /proc/modules: unavailable, and says why", () => {
    const w = hiddenModuleWatch({ procModules: "/nonexistent/modules", sysModule: f.sysModule });
    expect(w.unavailable).toContain("CONFIG_MODULES=n");
  });
});

describe("the third view: module memory", () => {
  // Every module Live: dummy, mt_hide_kobj (not in /sys/module), 8021q, garp;
  // mt_hide_list in /sys/module only. Their cores and one more area.
  const LIVE = PROC.replace("loading 16384 1 - Loading 0xffffffffc0390000\n", "");
  const areas = (extra: string) => `${VMALLOCINFO.split("\n").slice(0, 4).join("\n")}
0x00000000fa2aecb2-0x00000000fb918381   20480 load_module+0xbb7/0x21a0 pages=4 vmalloc N0=4
${extra}${VMALLOCINFO.split("\n").slice(4).join("\n")}`;
  const views = { dummy: "live", "8021q": "live", garp: "live", mt_hide_list: "live", vt: null };
  const hiddenArea = "0x0000000011111111-0x0000000022222222   28672 load_module+0xbb7/0x21a0 pages=6 vmalloc N0=6\n";
  let found: Finding[];
  const report = (x: Finding) => found.push(x);
  beforeEach(() => (found = []));

  test("vmallocinfo: the module loader's areas, and nothing else of the module space", () => {
    expect(parseModuleAreas(areas(hiddenArea)).map((a) => [a.size, a.pageBytes, a.caller, a.start])).toEqual([
      [20480, 16384, "load_module+0xbb7", undefined], [16384, 12288, "load_module+0xbb7", undefined], [45056, 40960, "load_module+0xbb7", undefined],
      [20480, 16384, "load_module+0xbb7", undefined], [20480, 16384, "load_module+0xbb7", undefined], [28672, 24576, "load_module+0xbb7", undefined],
    ]);
    // Real addresses where the kernel shows them (kptr_restrict 1, root).
    expect(parseModuleAreas("0xffffffffc0386000-0xffffffffc038b000   20480 load_module+0xbb7/0x21a0 pages=4 vmalloc N0=4\n")[0].start).toBe(0xffffffffc0386000n);
  });

  test("each module takes one area of its core size: its pages, or its size less the guard page", () => {
    const a = (size: number, pages?: number) => ({ size, caller: "load_module+0xbb7", ...(pages ? { pageBytes: pages * 4096 } : {}) });
    expect(unaccountedAreas([a(20480, 4), a(16384, 3), a(28672, 6)], [12288, 16384])).toEqual([a(28672, 6)]);
    expect(unaccountedAreas([a(20480), a(16384), a(28672)], [12288, 16384])).toEqual([a(28672)]);
    expect(unaccountedAreas([a(8192)], [3000])).toEqual([]);
    expect(unaccountedAreas([a(8192)], [])).toEqual([a(8192)]);
  });

  test("a module in neither view is found by its memory: once, after two scans two seconds apart", () => {
    const w = hiddenModuleWatch(fixture(views, LIVE, areas(hiddenArea)));
    expect(w.partly).toBeUndefined();
    for (const t of [1, 2, 3, 4]) w.scan(BigInt(t) * 1_000_000_000n, report);
    const memory = found.filter((f) => f.details?.view === "module_memory");
    expect(memory.length).toBe(1);
    expect(memory[0]).toMatchObject({ rule: "hidden_module", severity: "critical", timestamp: 3_000_000_000n });
    expect(memory[0].moduleName).toBeUndefined();
    expect(memory[0].details).toEqual({ lacking: "both", view: "module_memory", areaBytes: 24576, allocator: "load_module+0xbb7" });
    // The two views' own disagreements as before, and nothing of the BPF pack, the trampoline or the unpurged area.
    expect(found.filter((f) => f.details?.view === undefined).map((f) => f.moduleName).sort()).toEqual(["mt_hide_kobj", "mt_hide_list"]);
  });

  test("every area accounted for: nothing", () => {
    const w = hiddenModuleWatch(fixture(views, LIVE, areas("")));
    for (const t of [1, 2, 3, 4]) w.scan(BigInt(t) * 1_000_000_000n, report);
    expect(found.filter((f) => f.details?.view === "module_memory")).toEqual([]);
  });

  test("a module the capture saw load that is in neither view is named, and its memory not reported again", () => {
    const w = hiddenModuleWatch(fixture(views, LIVE, areas(hiddenArea)));
    w.observe(fakeEvent({ eventName: "module_load", module: "ghost", timestamp: 1n }));
    w.observe(fakeEvent({ eventName: "do_init_module", module: "ghost", ret: 0, timestamp: 2n }));
    for (const t of [1, 2, 3, 4]) w.scan(BigInt(t) * 1_000_000_000n, report);
    expect(found.filter((f) => f.details?.lacking === "both").map((f) => [f.moduleName, f.details?.view])).toEqual([["ghost", undefined]]);
  });

  test("an area that comes and goes (each load's init area, freed after init) is never confirmed", () => {
    const f = fixture(views, LIVE, areas(hiddenArea));
    const w = hiddenModuleWatch(f);
    for (const [t, text] of [[1, areas(hiddenArea)], [2, areas("")], [3, areas(hiddenArea)], [4, areas("")]] as const) {
      writeFileSync(f.vmallocinfo, text);
      w.scan(BigInt(t) * 1_000_000_000n, report);
    }
    expect(found.filter((x) => x.details?.view === "module_memory")).toEqual([]);
  });

  test("while a module is mid-load (its init area still there), the memory view waits", () => {
    const w = hiddenModuleWatch(fixture(views, PROC, areas(hiddenArea)));
    for (const t of [1, 2, 3, 4]) w.scan(BigInt(t) * 1_000_000_000n, report);
    expect(found.filter((f) => f.details?.view === "module_memory")).toEqual([]);
  });

  test("from 6.4 (a module is several areas) and without vmallocinfo: the watch runs, and says what it cannot compare", () => {
    expect(hiddenModuleWatch({ ...fixture(views, LIVE), kernelRelease: "6.8.0-45-generic" }).partly).toContain("allocates each module section apart");
    expect(moduleMemoryUnavailable("/nonexistent/vmallocinfo", "6.1.0")).toContain("cannot be read (ENOENT)");
    expect(moduleMemoryUnavailable("/nonexistent/vmallocinfo", "5.10.0")).toContain("cannot be read");
  });
});

describe("names and flip-flops", () => {
  let found: Finding[];
  const report = (x: Finding) => found.push(x);
  beforeEach(() => (found = []));

  test("one name listed twice: a module passing as another", () => {
    const proc = `${PROC}dummy 20480 0 - Live 0xffffffffc0400000 (OE)\n`;
    const w = hiddenModuleWatch(fixture({ dummy: "live", "8021q": "live", garp: "live", mt_hide_kobj: "live" }, proc));
    for (const t of [1, 2, 3, 4]) w.scan(BigInt(t) * 1_000_000_000n, report);
    expect(found.map((f) => [f.moduleName, f.details?.lacking, f.details?.listedTimes])).toEqual([["dummy", "own_name", 2]]);
  });

  test("hiding and showing in turn: the first sighting counts, and the returns are said", () => {
    const f = fixture({ dummy: "live", "8021q": "live", garp: "live", mt_hide_kobj: "live" });
    const shown = readFileSync(f.procModules, "utf8");
    const hidden = shown.replace(/^dummy .*\n/m, "");
    const w = hiddenModuleWatch(f);
    const at = (s: number) => BigInt(s * 1_000_000_000);
    // The module list flips between scans: hidden, shown, hidden again.
    for (const [t, text] of [[1, hidden], [2, shown], [3, hidden]] as const) {
      writeFileSync(f.procModules, text);
      w.scan(at(t), report);
    }
    const dummy = found.filter((x) => x.moduleName === "dummy");
    expect(dummy.map((x) => [x.details?.lacking, x.details?.returns, x.timestamp])).toEqual([["module_list", 1, at(3)]]);
  });
});
