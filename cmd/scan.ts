// `modtrace scan`: the kernel watches once, with no capture, and every
// loaded module checked against its file and its package. For the responder
// who arrives after the fact: the rootkit, if any, is already loaded, so
// every check here is absolute (no baseline: what the kernel should be, not
// what it was a minute ago).
import { printOut } from "../output/outputs";
import { hostname, release } from "node:os";
import { kernelWatches } from "../findings/live";
import { watchSeverity } from "../findings/watch";
import { findingMap, findingText } from "../findings/format";
import { atOrAbove, severityRank, type Finding, type Severity } from "../findings/finding";
import type { FindingsConfig } from "../findings/config";
import { escapeText } from "../output/text-escape";
import { loadedModules, type LoadedModule } from "../findings/watches/loaded-modules";
import { fileFacts, moduleIndex } from "../scan/module-files";
import { moduleFindings, recordFor, type ModuleFile } from "../scan/module-checks";
import { recordMatches } from "../findings/package-records";
import { moduleRecords } from "../scan/module-records";
import { programInventory, programReader } from "../findings/watches/bpf-programs";
import { describeAttachments } from "../findings/watches/bpf-attachments";

export interface ScanOptions {
  json: boolean;
  failOn: Severity;
  config: FindingsConfig;
}

// hidden_module reports a disagreement between the module views once scans
// have agreed on it for two seconds (a module mid-load or mid-unload is in
// one view only for a moment): the scan looks this long, this often.
const LOOK_MS = 2500;
const EVERY_MS = 500;

const nowNs = () => BigInt(Date.now()) * 1_000_000n;
const seconds3 = (s: number) => Number(s.toFixed(3));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ScannedModule extends LoadedModule {
  file: { path: string; sha256: string; md5: string; srcversion?: string; package?: string; packageMatches?: boolean } | { why: string };
}

/** The hook and hiding watches, scanned until their confirmations are in. */
async function watchFindings(config: FindingsConfig) {
  const disabled = new Set(config.disabledRules);
  const setup = performance.now();
  const watches = kernelWatches({ completeEvents: false }, config);
  const setupSeconds = (performance.now() - setup) / 1000;
  const findings: Finding[] = [];
  const errors = new Map<string, string>();
  const running = watches.filter((w) => !w.unavailable);
  // What each check's look costs (a capture makes the same look every --scan-interval).
  const spent = new Map<string, { ms: number; scans: number }>();
  const start = performance.now();
  for (;;) {
    const round = performance.now();
    for (const w of running) {
      const began = performance.now();
      try {
        w.scan(nowNs(), (f) => findings.push(f));
      } catch (e: any) {
        errors.set(w.rule, e?.message ?? String(e));
      }
      const s = spent.get(w.rule) ?? { ms: 0, scans: 0 };
      spent.set(w.rule, { ms: s.ms + performance.now() - began, scans: s.scans + 1 });
    }
    // Only the hiding check needs a second look; the rest know at once. It
    // confirms what two of its scans two seconds apart saw: the round that
    // began LOOK_MS after the first is the last (the other watches can take
    // seconds of a round under emulation, so the end of a round says nothing).
    if (!running.some((w) => w.rule === "hidden_module") || round - start >= LOOK_MS) break;
    await sleep(EVERY_MS);
  }
  const unavailable = watches.filter((w) => w.unavailable).map((w) => ({ rules: w.rules ?? [w.rule], why: w.unavailable! }));
  const partly = running.filter((w) => w.partly).map((w) => ({ rule: w.rule, why: w.partly! }));
  // A check whose scan failed did not check anything: it is not counted as run.
  const ran = running.filter((w) => !errors.has(w.rule)).map((w) => w.rules ?? [w.rule]);
  const timings = {
    setupSeconds: seconds3(setupSeconds),
    checks: [...spent].map(([rule, s]) => ({ rule, scans: s.scans, secondsPerScan: seconds3(s.ms / s.scans / 1000) })),
  };
  return { findings: findings.filter((f) => !disabled.has(f.rule)), ran, unavailable, partly, errors: [...errors].map(([rule, why]) => ({ rule, why })), timings };
}

function checkModules(modules: LoadedModule[], config: FindingsConfig) {
  const index = moduleIndex();
  const records = moduleRecords();
  const notes: string[] = [];
  if (typeof index === "string") notes.push(index);
  if (typeof records === "string") notes.push(records);
  const disabled = new Set(config.disabledRules);
  const findings: Finding[] = [];
  const scanned: ScannedModule[] = modules.map((m) => {
    const path = typeof index === "string" ? undefined : index.get(m.name);
    const facts = path ? fileFacts(path) : undefined;
    const found: ModuleFile =
      facts === undefined ? { why: typeof index === "string" ? index : "modules.dep names no file for it" } : typeof facts === "string" ? { why: facts } : { file: facts, record: recordFor(typeof records === "string" ? undefined : records, facts.path) };
    findings.push(...moduleFindings({ module: m, found, recordsKnown: typeof records !== "string" }, nowNs()).filter((f) => !disabled.has(f.rule)));
    const file = found.file
      ? { path: found.file.path, sha256: found.file.sha256, md5: found.file.md5, ...(found.file.srcversion && { srcversion: found.file.srcversion }), ...(found.record && { package: found.record.package, packageMatches: recordMatches(found.record, found.file) }) }
      : { why: found.why! };
    return { ...m, file };
  });
  return { scanned, findings, notes };
}

function fileCheck(m: ScannedModule): string {
  if ("why" in m.file) return "no file";
  if (m.file.package === undefined) return "no package";
  return m.file.packageMatches ? `ok (${m.file.package})` : `CHANGED (${m.file.package})`;
}

type Program = ReturnType<typeof programInventory>[number];

function printText(r: { modules: ScannedModule[] | undefined; programs: Program[] | undefined; findings: Finding[]; seconds: number }) {
  const out: string[] = [];
  if (r.modules) {
    out.push(`${"MODULE".padEnd(24)} ${"SIZE".padStart(8)}  ${"ADDRESS".padEnd(18)}  ${"TAINTS".padEnd(6)}  ${"SIGNATURE".padEnd(9)}  FILE`);
    for (const m of r.modules)
      out.push(escapeText(`${m.name.padEnd(24)} ${String(m.size).padStart(8)}  ${(m.address ?? "-").padEnd(18)}  ${(m.taints || "-").padEnd(6)}  ${m.signature.padEnd(9)}  ${fileCheck(m)}`));
    out.push("");
  }
  if (r.programs?.length) {
    out.push(`${"BPF PROGRAM".padEnd(11)} ${"TYPE".padEnd(15)} ${"NAME".padEnd(16)} ${"UID".padStart(5)}  HELD BY`);
    for (const p of r.programs)
      out.push(escapeText(`${String(p.id).padEnd(11)} ${p.type.padEnd(15)} ${(p.name || "-").padEnd(16)} ${String(p.uid).padStart(5)}  ${p.heldBy.map((h) => `${h.pid} ${h.comm}`).join(", ") || "no process"}${p.attachedTo.length ? `  on ${describeAttachments(p.attachedTo)}` : ""}${p.helpers.length ? `  calls ${p.helpers.join(", ")}` : ""}`));
    out.push("");
  }
  for (const f of [...r.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity))) out.push(findingText(f).trimEnd());
  printOut(out.join("\n") + (out.length ? "\n" : ""));
}

export async function scanCommand(o: ScanOptions): Promise<number> {
  const started = performance.now();
  const modules = loadedModules();
  const watched = await watchFindings(o.config);
  const checked = modules ? checkModules(modules, o.config) : undefined;
  const read = programReader();
  const programs = typeof read === "string" ? { why: read } : programInventory(read);
  // The severities lists.json (or --findings-config) gives, as a capture's.
  const findings = [...watched.findings, ...(checked?.findings ?? [])].map((f) => ({ ...f, severity: watchSeverity(o.config.severity, f) }));
  const seconds = (performance.now() - started) / 1000;
  const notes = [
    ...(modules ? [] : ["no /proc/modules: this kernel cannot load modules (CONFIG_MODULES=n), so there are none to check"]),
    ...(checked?.notes ?? []),
    ...(Array.isArray(programs) ? [] : [`BPF programs not listed: ${programs.why}`]),
  ];
  if (o.json) {
    printOut(
      exactJson(
        {
          host: hostname(),
          kernel: release(),
          time: new Date().toISOString(),
          seconds: Number(seconds.toFixed(3)),
          modules: checked?.scanned ?? null,
          // Every loaded BPF program: an eBPF rootkit is no module.
          bpfPrograms: Array.isArray(programs) ? programs : null,
          findings: findings.map(findingMap),
          checked: watched.ran,
          unavailable: watched.unavailable,
          partly: watched.partly,
          errors: watched.errors,
          // The checks' own cost: making them ready, then each look (a capture looks every --scan-interval).
          timings: watched.timings,
          notes,
        },
      ) + "\n",
    );
  } else {
    printText({ modules: checked?.scanned, programs: Array.isArray(programs) ? programs : undefined, findings, seconds });
    for (const n of notes) process.stderr.write(`modtrace: ${n}\n`);
    for (const u of watched.unavailable) process.stderr.write(`modtrace: ${u.rules.join(", ")} not checked: ${u.why}\n`);
    for (const p of watched.partly) process.stderr.write(`modtrace: ${p.rule} checked in part: ${p.why}\n`);
  }
  for (const e of watched.errors) process.stderr.write(`modtrace: ${e.rule}: the scan failed: ${e.why}\n`);
  if (!modules && !watched.ran.length) {
    process.stderr.write("modtrace: nothing could be checked on this kernel (see the reasons above): no findings is no evidence here\n");
    return 1;
  }
  const bySeverity = new Map<string, number>();
  for (const f of findings) bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1);
  process.stderr.write(
    `modtrace: scanned ${modules ? `${modules.length} modules` : "no modules"} and ${watched.ran.length} of ${watched.ran.length + watched.unavailable.length + watched.errors.length} kernel checks in ${seconds.toFixed(1)} s: ${findings.length ? `${findings.length} finding${findings.length === 1 ? "" : "s"} (${[...bySeverity].map(([s, n]) => `${s} ${n}`).join(", ")})` : "no findings"}\n`,
  );
  const failing = findings.filter((f) => atOrAbove(f.severity, o.failOn)).length;
  if (failing) {
    process.stderr.write(`modtrace: exit 3: ${failing} finding${failing === 1 ? "" : "s"} at or above ${o.failOn} (--fail-on)\n`);
    return 3;
  }
  return watched.errors.length ? 1 : 0;
}

/** Indented JSON with 64-bit integers (nanosecond times) as their exact digits. */
function exactJson(v: unknown): string {
  return JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `\u0000${x}` : x), 2).replace(/"\\u0000(-?\d+)"/g, "$1");
}
