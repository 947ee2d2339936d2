// The vm tier, findings of the trace rules: real module work in Debian's 6.1
// kernel that each rule must judge, one step at a time, and nothing else
// found; then the log judged offline gives the same findings. Which finding
// a step must give follows from the rule's definition (README, Findings)
// and from what the step did, never from modtrace's output.
// tests/vm/findings-guest.sh runs in the guest.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { DEFAULT_CACHE, guestScript, outputText, prepare, REPO, runInVm, vmCannotRun, type VmResult } from "./run";

const cannotRun = vmCannotRun();
if (cannotRun && process.env.CI !== "true") console.log(`vm tests skipped: ${cannotRun}`);

/** What each step must be found to be: "rule severity", in any order. */
const EXPECTED: Record<string, string[]> = {
  "tmp-load": ["unusual_load_path high"],
  "tmp-unload": ["hit_and_run info"], // a signed stock module, unloaded at once
  renamed: ["name_file_mismatch medium", "unusual_load_path high"],
  "renamed-unload": ["hit_and_run info"],
  memfd: ["loader_not_module_tool medium", "unusual_load_path high"],
  "memfd-unload": ["hit_and_run info"],
  image: ["image_from_memory high", "loader_not_module_tool medium"],
  "image-unload": ["hit_and_run info"],
  plain: ["untrusted_module medium", "unusual_load_path medium"], // out-of-tree and unsigned, from /root
  "plain-unload": ["hit_and_run high"],
  userns: ["module_call_from_container low"], // refused in a user namespace: failed unprivileged, at most low
  "force-load": [],
  "force-unload": ["forced_unload medium", "hit_and_run info"],
  security: ["security_module_unloaded high"],
  autoload: ["rare_autoload high"],
};

describe.skipIf(!!cannotRun && process.env.CI !== "true")("findings of the trace rules in a Debian 6.1 VM", () => {
  let r: VmResult;
  let events: any[];
  let findings: any[];
  let steps: Record<string, { pid: number; rc: number }>;
  const text = (name: string) => outputText(r, name);
  const jsonLines = (name: string) => text(name).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  /** The findings a step completed: their last evidence is an event of its process. */
  const foundFor = (step: string) => {
    const calls = new Set(events.filter((e) => e.hostProcessId === steps[step].pid).map((e) => String(e.callId)));
    return findings.filter((f) => calls.has(String(f.evidence.at(-1).callId)));
  };
  const rules = (fs: any[]) => fs.map((f) => `${f.eventName} ${f.severity}`).sort();

  beforeAll(async () => {
    if (cannotRun) throw new Error(`the vm tier cannot run here: ${cannotRun}`);
    const prep = prepare();
    const built = spawnSync(join(REPO, "tests/vm/modules/build.sh"), { stdio: ["ignore", "inherit", "inherit"] });
    if (built.status !== 0) throw new Error("tests/vm/modules/build.sh failed");
    r = await runInVm({
      script: guestScript("findings-guest.sh", {}),
      files: {
        "/root/trigger": join(REPO, "tests/trigger"),
        "/root/mt_plain.ko": join(DEFAULT_CACHE, "modules", prep.kernelVersion, "mt_plain.ko"),
      },
      timeoutSec: 900,
    });
    console.log(`vm: ran the findings scenario in ${r.seconds.toFixed(1)} s`);
    if (r.exitCode !== 0) throw new Error(`the guest script exited ${r.exitCode}:\n${r.console}`);
    if (text("rules/modtrace.rc").trim() !== "0") throw new Error(`modtrace failed:\n${text("rules/modtrace.err")}\n${r.console.slice(-3000)}`);
    const all = jsonLines("rules/events.json");
    events = all.filter((o) => o.finding !== true);
    findings = all.filter((o) => o.finding === true);
    steps = {};
    for (const line of text("rules/steps.txt").trim().split("\n")) {
      const [name, pid, rc] = line.split(" ");
      steps[name] = { pid: Number(pid), rc: Number(rc) };
    }
  }, 960_000);

  test("the steps did what they set out to: loads and unloads worked, the refused ones were refused", () => {
    for (const s of ["tmp-load", "renamed", "memfd", "image", "plain", "plain-unload", "force-load", "force-unload"]) expect([s, steps[s].rc]).toEqual([s, 0]);
    expect(steps.userns.rc).not.toBe(0); // no CAP_SYS_MODULE outside the initial user namespace
    expect(steps.security.rc).not.toBe(0); // there is no lkrg to unload
  });

  for (const [step, expected] of Object.entries(EXPECTED))
    test(`${step}: ${expected.length ? expected.join(", ") : "nothing"}`, () => {
      expect(rules(foundFor(step))).toEqual([...expected].sort());
    });

  test("forced (modprobe --force-vermagic): untrusted and high when the kernel took it, else refused with nothing forced to report", () => {
    const found = rules(foundFor("forced"));
    if (steps.forced.rc === 0) expect(found).toEqual(["untrusted_module high"]);
    else expect(found.filter((f) => f.startsWith("untrusted_module"))).toEqual([]);
  });

  test("five EPERM unloads by nobody: one probing finding with their counts", () => {
    const probing = findings.filter((f) => f.eventName === "probing");
    expect(rules(probing)).toEqual(["probing low"]);
    expect(probing[0].details).toMatchObject({ userId: 65534, failures: 5, errnos: { EPERM: 5 }, processes: 5 });
    const pids = new Set([1, 2, 3, 4, 5].map((i) => steps[`probe${i}`].pid));
    for (const e of probing[0].evidence) expect(pids.has(events.find((x) => String(x.callId) === String(e.callId)).hostProcessId)).toBe(true);
  });

  test("the autoload finding names the request the kernel made and its CVEs", () => {
    const [f] = findings.filter((x) => x.eventName === "rare_autoload");
    expect(f.details.request).toMatch(/^net-pf-2-proto-33/);
    expect(f.details.cves).toContain("CVE-2017-6074");
    expect(f.userId).toBe(65534);
  });

  test("no finding beyond the steps' own, and every one has its technique and evidence", () => {
    const explained = new Set(Object.keys(steps).flatMap((s) => foundFor(s)));
    expect(findings.filter((f) => !explained.has(f))).toEqual([]);
    for (const f of findings) {
      expect(f.techniques.length).toBeGreaterThan(0);
      for (const t of f.techniques) expect(["T1547.006", "T1014"]).toContain(t.id);
      expect(f.evidence.length).toBeGreaterThan(0);
    }
  });

  test("a name flipped during delete_module: name_mismatch, the name read against the module the kernel unloaded", () => {
    expect(text("race/modtrace.rc").trim()).toBe("0");
    const races = text("race/race.json").trim().split("\n").map((l) => JSON.parse(l));
    expect(races.length).toBe(16);
    for (const race of races) expect(race.ret).toBe(0); // each ended in the unload of dummy
    const all = jsonLines("race/events.json");
    const unloads = all.filter((o) => o.eventName === "delete_module" && o.returnValue === 0);
    expect(unloads.length).toBe(16);
    const mismatched = unloads.filter((e) => e.args.find((a: any) => a.name === "name").value !== e.moduleName);
    const found = all.filter((o) => o.finding === true && o.eventName === "name_mismatch");
    // Each unload the capture read as dummx is one finding; 16 coin flips all heads is 2^-16.
    // Past ten in a minute from one caller, the rest are folded into one
    // finding (the rate limit) whose evidence names each of their calls.
    expect(mismatched.length).toBeGreaterThan(0);
    expect(found.flatMap((f) => f.evidence.map((x: any) => String(x.callId))).sort()).toEqual(mismatched.map((e) => String(e.callId)).sort());
    for (const f of found) {
      const { folded, ...details } = f.details;
      expect([f.severity, details, folded ?? 1]).toEqual(["high", { asked: "dummx", acted: "dummy" }, f.evidence.length]);
    }
  });

  test("the summary at stop lists them, and `modtrace findings` over the log gives exactly the same", () => {
    expect(text("rules/modtrace.err")).toContain(`findings: ${findings.length} `);
    expect(text("rules/offline.rc").trim()).toBe("0");
    const live = text("rules/events.json").trim().split("\n").filter((l) => l.includes('"finding":true')).sort();
    expect(text("rules/offline.json").trim().split("\n").sort()).toEqual(live);
  });
});
