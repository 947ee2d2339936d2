// An unprivileged caller choosing every string modtrace shows (its process
// name, the module names and parameters it passes, the path of the file it
// loads and of its own executable) and failing on purpose as often as it
// likes: no text output may gain a line or an escape sequence from it, and
// none of its failures may count as high.
import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Capture, TRIGGER, findingLines, jsonLines, scratchDir } from "./harness";
import { runModtrace } from "../lib/modtrace";

const NOBODY = "65534";
// A newline and a fake finding, an escape that hides what follows, a bidi
// override and a line separator.
const CRAFTED = "x\nFINDING CRITICAL fake\x1b[8m\u202e\u2028y";
const CRAFTED_COMM = "\nFAKE\u202e\x1b[8m"; // within comm's 15 bytes
// The raw characters that must never reach text output from the traced side.
const RAW = /[\x00-\x09\x0b-\x1f\x7f\u202e\u2028]/;

/** The trigger under a crafted executable path, a crafted module file, both
 * reachable by nobody; then its hostile scenario, as nobody. */
function hostile(rounds: number, name: string) {
  const dir = scratchDir();
  chmodSync(dir, 0o755);
  const exe = join(dir, `t${CRAFTED}`);
  copyFileSync(TRIGGER, exe);
  chmodSync(exe, 0o755);
  const file = join(dir, `m${CRAFTED}.ko`);
  writeFileSync(file, "not a module");
  chmodSync(file, 0o644);
  const run = Bun.spawnSync([exe, "hostile", NOBODY, String(rounds), CRAFTED_COMM, name, file], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`trigger hostile failed: ${run.stderr}`);
  return JSON.parse(run.stdout.toString());
}

const lines = (text: string) => text.split("\n").slice(0, -1);

/** Lines `stats` text has for its JSON summary: two, then each table's title and rows. */
function statsLines(s: any): number {
  const tables = [s.byEvent, s.byProcess, s.byModule, s.failures, s.loadsByContainer, s.loadsByLogin, s.loadsByChain, s.findings];
  const images = Object.values(s.images as Record<string, unknown[]>).reduce((n: number, list) => n + 1 + list.length, 1);
  return 2 + tables.reduce((n, t) => n + 1 + Object.keys(t).length, 0) + images;
}

describe("hostile input", () => {
  test("crafted names, paths and comm forge no line and pass no control in any text output", async () => {
    const dir = scratchDir();
    const [json, text, cbor] = ["live.json", "live.txt", "log.cbor"].map((f) => join(dir, f));
    const capture = await Capture.start(["--uid", NOBODY, "-o", `json:${json}`, "-o", `text:${text}`, "-o", `cbor:${cbor}`]);
    const truth = hostile(2, CRAFTED);
    const done = await capture.stop();
    expect(done.exitCode).toBe(0);

    const live = readFileSync(json, "utf8");
    const events = jsonLines(live);
    const findings = findingLines(live);
    expect(events.length).toBe(truth.calls);
    expect(findings.length).toBeGreaterThan(0);
    // What was crafted did reach the JSON, unchanged.
    expect(events.some((e) => e.processName === CRAFTED_COMM && e.args.some((a: any) => a.value === CRAFTED))).toBe(true);
    expect(findings.some((f) => f.description.includes(CRAFTED))).toBe(true);

    // Text: a header line, then one line per event and per finding.
    const liveText = readFileSync(text, "utf8");
    expect(lines(liveText).length).toBe(1 + events.length + findings.length);
    expect(liveText).not.toMatch(RAW);
    expect(lines(liveText).filter((l) => / FINDING /.test(l)).length).toBe(findings.length);
    // The summary on stderr lists the findings, one a line.
    expect(done.stderr).not.toMatch(RAW);
    expect(lines(done.stderr).filter((l) => / FINDING /.test(l)).length).toBe(findings.length);

    const read = runModtrace(["read", cbor, "-o", "text"]);
    expect(read.exitCode).toBe(0);
    expect(read.stdout).not.toMatch(RAW);
    expect(lines(read.stdout).length).toBe(1 + events.length + findings.length);

    const offline = runModtrace(["findings", cbor]);
    expect(offline.exitCode).toBe(0);
    expect(offline.stdout).not.toMatch(RAW);
    expect(lines(offline.stdout).length).toBe(findings.length);

    const statsJson = JSON.parse(runModtrace(["stats", cbor, "--json"]).stdout);
    expect(Object.keys(statsJson.byProcess).some((k) => k.includes(CRAFTED_COMM))).toBe(true);
    const stats = runModtrace(["stats", cbor]);
    expect(stats.exitCode).toBe(0);
    expect(stats.stdout).not.toMatch(RAW);
    expect(lines(stats.stdout).length).toBe(statsLines(statsJson));
  });

  test("1,000 failed unprivileged calls raise nothing high, --fail-on high stays quiet, and the flood is folded with counts", async () => {
    const dir = scratchDir();
    const json = join(dir, "live.json");
    const capture = await Capture.start(["--uid", NOBODY, "--fail-on", "high", "-o", `json:${json}`]);
    // Each round: delete_module("lkrg"), a crafted unload, init_module from
    // memory, finit_module of a file under /tmp: 4 calls.
    const truth = hostile(250, "mt_hostile");
    const done = await capture.stop();
    expect(truth).toMatchObject({ calls: 1000, failures: 1000 });
    expect(done.exitCode).toBe(0);
    expect(done.stderr).not.toContain("--fail-on");

    const live = readFileSync(json, "utf8");
    expect(jsonLines(live).length).toBe(1000);
    const findings = findingLines(live);
    // Nothing of medium or above: an unprivileged caller can neither trip
    // --fail-on nor pin log files past --rotate-count (which keeps those).
    expect(findings.filter((f) => f.severity !== "info" && f.severity !== "low")).toEqual([]);
    // What would be high for root is there, lowered, and says what it would be.
    for (const rule of ["security_module_unloaded", "image_from_memory", "unusual_load_path"]) {
      const of = findings.filter((f) => f.eventName === rule);
      expect(of.length).toBeGreaterThan(0);
      expect(of.length).toBeLessThan(50);
      for (const f of of) expect(f).toMatchObject({ severity: "low", details: { severityIfPrivileged: "high" } });
      // Every call is accounted for: written apart, or counted in a folded one.
      const folded = of.reduce((n, f) => n + (f.details.folded ?? 1), 0);
      expect(folded).toBe(250);
    }
    expect(findings.some((f) => f.eventName === "probing" && f.details.failures === 1000)).toBe(true);
  });
});
