// The hidden_module watch on fixture files standing in for /proc/modules and
// /sys/module, fed events through the fields it reads.
import { beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hiddenModuleWatch, hiddenNow, parseProcModules, readKset } from "../../cmd/findings/watches/hidden-module";
import type { Finding } from "../../cmd/findings/finding";
import { fakeEvent } from "../lib/fake-event";

const PROC = `dummy 16384 0 - Live 0xffffffffc0386000
mt_hide_kobj 12288 0 [permanent], Live 0xffffffffc038f000 (OE)
loading 16384 1 - Loading 0xffffffffc0390000
8021q 40960 0 - Live 0xffffffffc0391000
garp 16384 1 8021q, Live 0xffffffffc0392000
`;

function fixture(kset: Record<string, string | null>, proc = PROC) {
  const dir = mkdtempSync(join(tmpdir(), "modtrace-hidden-"));
  for (const [name, initstate] of Object.entries(kset)) {
    mkdirSync(join(dir, "sys", name), { recursive: true });
    if (initstate !== null) writeFileSync(join(dir, "sys", name, "initstate"), `${initstate}\n`);
  }
  mkdirSync(join(dir, "sys"), { recursive: true });
  writeFileSync(join(dir, "modules"), proc);
  return { procModules: join(dir, "modules"), sysModule: join(dir, "sys") };
}

test("/proc/modules: name and state of each line, [permanent] or not", () => {
  expect(parseProcModules(PROC)).toEqual(
    new Map([["dummy", "Live"], ["mt_hide_kobj", "Live"], ["loading", "Loading"], ["8021q", "Live"], ["garp", "Live"]]),
  );
});

test("/sys/module: loadable modules with their initstate; built-in ones (no initstate) left out", () => {
  const f = fixture({ dummy: "live", vt: null, going: "going" });
  expect(readKset(f.sysModule)).toEqual(new Map([["dummy", "live"], ["going", "going"]]));
});

describe("hiddenNow", () => {
  const kset = new Map([["dummy", "live"], ["8021q", "live"], ["garp", "live"], ["mt_hide_list", "live"], ["going", "going"]]);
  test("each view checked against the other; modules mid-load or mid-unload are not hidden", () => {
    expect(hiddenNow(parseProcModules(PROC), kset, [])).toEqual(new Map([["mt_hide_kobj", "module_kset"], ["mt_hide_list", "module_list"]]));
  });
  test("a module the events saw loaded and not freed that neither view has", () => {
    expect(hiddenNow(parseProcModules(PROC), kset, ["dummy", "ghost"]).get("ghost")).toBe("both");
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
