// Findings live on this host, and the same findings from the log offline.
// The trigger is no module tool and loads from a scratch directory under
// /tmp, so its attempts are findings whatever the kernel answers (ENOSYS
// without modules, an error with them); what each must be follows from the
// rules' definitions and the trigger's own report.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { Decoder } from "cbor-x/decode";
import { Capture, findingLines, notAModule, scratchDir, trigger, TRIGGER } from "./harness";
import { runModtrace } from "../lib/modtrace";

const ONLY_TRIGGER = ["--comm", "mt-trigger"];

function cborItems(path: string): any[] {
  return new Decoder({ mapsAsObjects: true, useRecords: false }).decodeMultiple(readFileSync(path)) as any[];
}

const byRule = (fs: any[]) => fs.map((f) => `${f.eventName} ${f.severity}`).sort();

describe("findings", () => {
  test("live in JSON, text and the CBOR log; the log replayed by `modtrace findings` gives the same ones", async () => {
    const dir = scratchDir();
    const [json, text, cbor] = ["live.json", "live.txt", "log.cbor"].map((f) => join(dir, f));
    const capture = await Capture.start([...ONLY_TRIGGER, "-o", `json:${json}`, "-o", `text:${text}`, "-o", `cbor:${cbor}`]);
    const module = join(dir, "rk.ko");
    writeFileSync(module, "not a module");
    const [initTruth, finitTruth, delTruth] = trigger("basic", module);
    for (let i = 0; i < 5; i++) trigger("uid", "65534");
    const done = await capture.stop();
    expect(done.exitCode).toBe(0);

    const live = findingLines(readFileSync(json, "utf8"));
    // basic: init_module from memory, finit_module of a file under /tmp,
    // delete_module with O_TRUNC, all by the trigger; then five failed unloads by nobody.
    expect(byRule(live)).toEqual([
      "forced_unload medium", "image_from_memory high", "loader_not_module_tool medium", "loader_not_module_tool medium",
      "probing low", "unusual_load_path high",
    ]);
    const image = live.find((f) => f.eventName === "image_from_memory");
    expect(image.hostProcessId).toBe(initTruth.pid);
    expect(image.executable.path).toBe(TRIGGER);
    expect(image.techniques.map((t: any) => t.id)).toEqual(["T1547.006", "T1014"]);
    expect(image.evidence).toEqual([expect.objectContaining({ eventName: "init_module" })]);
    expect(live.find((f) => f.eventName === "unusual_load_path").details.path).toBe(module);
    expect(live.find((f) => f.eventName === "forced_unload").hostProcessId).toBe(delTruth.pid);
    const probing = live.find((f) => f.eventName === "probing");
    expect(probing.details).toMatchObject({ userId: 65534, failures: 5, processes: 5 });
    expect(probing.evidence.length).toBe(5);
    // Every evidence callId is an event of the same output.
    const events = readFileSync(json, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((o) => o.finding !== true);
    for (const f of live) for (const e of f.evidence) expect(events.some((x) => x.callId === e.callId && x.eventName === e.eventName)).toBe(true);
    expect(finitTruth.call).toBe("finit_module");

    const textFindings = readFileSync(text, "utf8").split("\n").filter((l) => / FINDING /.test(l));
    expect(textFindings.length).toBe(live.length);
    expect(done.stderr).toContain(`findings: ${live.length} `);

    const items = cborItems(cbor);
    expect(byRule(items.filter((i) => i.finding === true))).toEqual(byRule(live));
    expect(items.at(-1).findings).toMatchObject({ loader_not_module_tool: 2, probing: 1 });

    const offline = runModtrace(["findings", cbor, "-o", "json"]);
    expect(offline.exitCode).toBe(0);
    const sorted = (s: string) => s.trim().split("\n").sort();
    expect(sorted(offline.stdout)).toEqual(sorted(readFileSync(json, "utf8")).filter((l) => l.includes('"finding":true')));

    // The log as rows: every table from it without a word about fields the
    // schema lacks (this binary wrote it), and its findings as findings rows.
    for (const output of ["rows", "captures", "findings", `parquet:${join(dir, "parquet")}`]) {
      const r = runModtrace(["read", cbor, "-o", output]);
      expect([output, r.exitCode, r.stderr]).toEqual([output, 0, ""]);
    }
    const rows = runModtrace(["read", cbor, "-o", "findings"]).stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.map((r) => `${r.rule} ${r.severity}`).sort()).toEqual(byRule(live));
    expect(new Set(rows.map((r) => `${r.host} ${r.file}`))).toEqual(new Set([`${hostname()} log.cbor`]));
    const imageRow = rows.find((r) => r.rule === "image_from_memory");
    expect([imageRow.hostProcessId, imageRow.executable_path, JSON.parse(imageRow.evidenceCallIds)]).toEqual([initTruth.pid, TRIGGER, image.evidence.map((e: any) => e.callId)]);
  });

  test("--findings-only writes findings alone; --fail-on exits 3 at or above its severity", async () => {
    const dir = scratchDir();
    const json = join(dir, "f.json");
    const capture = await Capture.start([...ONLY_TRIGGER, "--findings-only", "--fail-on", "high", "-o", `json:${json}`]);
    const module = notAModule();
    trigger("basic", module);
    const done = await capture.stop();
    expect(done.exitCode).toBe(3);
    expect(done.stderr).toContain("--fail-on");
    const lines = readFileSync(json, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.finding).toBe(true);

    const quiet = await Capture.start([...ONLY_TRIGGER, "--fail-on", "critical", "-o", `json:${join(dir, "g.json")}`]);
    trigger("basic", module);
    expect((await quiet.stop()).exitCode).toBe(0);
  });

  test("--disable-rule and --module-tool change what is found; the offline command takes them too", async () => {
    const dir = scratchDir();
    const cbor = join(dir, "log.cbor");
    const capture = await Capture.start([...ONLY_TRIGGER, "-o", `cbor:${cbor}`, "--disable-rule", "probing,forced_unload", "--module-tool", TRIGGER]);
    trigger("basic", notAModule());
    await capture.stop();
    const live = cborItems(cbor).filter((i) => i.finding === true);
    expect(byRule(live)).toEqual(["unusual_load_path high"]);
    expect(byRule(JSON.parse(`[${runModtrace(["findings", cbor, "-o", "json"]).stdout.trim().split("\n").join(",")}]`))).toEqual([
      "forced_unload medium", "image_from_memory high", "loader_not_module_tool medium", "loader_not_module_tool medium", "unusual_load_path high",
    ]);
    expect(runModtrace(["findings", cbor, "--fail-on", "medium"]).exitCode).toBe(3);
  });

  test("a --findings-only log: findings passes its findings on, as live; two captures of this boot judged together keep this host and boot", async () => {
    const dir = scratchDir();
    const [only, second, judged] = ["only.cbor", "second.cbor", "judged.cbor"].map((f) => join(dir, f));
    const capture = await Capture.start([...ONLY_TRIGGER, "--findings-only", "-o", `cbor:${only}`]);
    trigger("basic", notAModule());
    await capture.stop();
    const live = cborItems(only).filter((i) => i.finding === true);
    expect(live.length).toBeGreaterThan(1);
    const replayed = runModtrace(["findings", only, "-o", "json"]);
    expect(replayed.exitCode).toBe(0);
    expect(byRule(replayed.stdout.trim().split("\n").map((l) => JSON.parse(l)))).toEqual(byRule(live));

    const other = await Capture.start([...ONLY_TRIGGER, "-o", `cbor:${second}`]);
    trigger("basic", notAModule());
    await other.stop();
    expect(runModtrace(["findings", only, second, "-o", `cbor:${judged}`]).exitCode).toBe(0);
    const [header] = cborItems(judged);
    const firstHeader = cborItems(only)[0];
    // Each capture measures the boot time anew (microseconds apart): one machine, one boot.
    expect([header.host, header.kernel, BigInt(header.bootTime)]).toEqual([hostname(), firstHeader.kernel, BigInt(firstHeader.bootTime)]);
    expect(header.findingsOf).toEqual([only, second]);
  });

  test("bad rule names, formats and config files are usage errors that say what is wrong", () => {
    const r1 = runModtrace(["findings", "x.cbor", "--disable-rule", "nosuch"]);
    expect(r1.exitCode).toBe(2);
    expect(r1.stderr).toContain("unknown rule 'nosuch'");
    const r2 = runModtrace(["findings", "x.cbor", "-o", "rows"]);
    expect(r2.exitCode).toBe(2);
    const r3 = runModtrace(["findings", "x.cbor", "--findings-config", "/nonexistent/c.json"]);
    expect(r3.exitCode).toBe(2);
    expect(r3.stderr).toContain("/nonexistent/c.json");
    const r4 = runModtrace(["--no-findings", "--fail-on", "high", "--duration", "1"]);
    expect(r4.exitCode).toBe(2);
    expect(runModtrace(["rules"]).stdout).toContain("hidden_module");
  });
});
