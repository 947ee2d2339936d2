// `modtrace stats`: a summary of one log or a rotated set (the counting:
// log/tally.ts).
import { printOut } from "../output/outputs";
import { checkReadable, unreadable } from "../log/reader";
import { readsMaps, reportProblems, type EventFilter } from "../log/filter";
import { escapeText } from "../output/text-escape";
import { tallyFiles } from "../log/tally-files";
import type { Counts } from "../log/tally";

export interface StatsOptions {
  files: string[];
  json: boolean;
  filter: EventFilter;
  /** 2: a large set's later files on the second core (log/tally-files.ts). */
  threads: number;
}

export async function stats(opts: StatsOptions): Promise<number> {
  // A summary of what can be read beats none: the rest is named, and exit 1.
  const bad = unreadable(opts.files);
  if (bad.length === opts.files.length) checkReadable(opts.files);
  const files = opts.files.filter((f) => !bad.some((b) => b.file === f));
  // Straight from the CBOR into records, but when a filter reads the maps.
  const tally = await tallyFiles(files, opts.filter, !readsMaps(opts.filter), opts.threads);

  const s = tally.state;
  const iso = (ns?: bigint): string | null => (ns === undefined ? null : new Date(Number(ns / 1_000_000n)).toISOString());
  const summary = {
    files: s.filesRead,
    events: s.events,
    first: iso(s.first),
    last: iso(s.last),
    seconds: s.first === undefined || s.last === undefined ? 0 : Number(s.last - s.first) / 1e9,
    byEvent: s.counts.byEvent,
    byProcess: s.counts.byProcess,
    byModule: s.counts.byModule,
    failures: s.counts.failures,
    images: tally.images.summary(iso),
    loadsByContainer: s.counts.loadsByContainer,
    loadsByLogin: s.counts.loadsByLogin,
    loadsByChain: s.counts.loadsByChain,
    findings: s.counts.findings,
    lost: s.lost,
    filtered: s.filtered,
    complete: s.trailers > 0 && s.problems.length === 0,
    problems: s.problems.length,
    skipped: s.problems.some((p) => p.skipped),
    unreadable: bad,
  };
  if (opts.json) printOut(JSON.stringify(summary) + "\n");
  else printOut(render(summary, s.headers, s.trailers));
  for (const b of bad) process.stderr.write(`modtrace: ${b.file}: ${b.why}: not read, not in these numbers\n`);
  return Math.max(reportProblems(s.problems), bad.length ? 1 : 0);
}

function table(title: string, c: Counts): string {
  const rows = Object.entries(c).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (!rows.length) return `${title}: none\n`;
  return `${title}:\n` + rows.map(([k, n]) => `  ${String(n).padStart(9)}  ${escapeText(k)}\n`).join("");
}

function render(s: any, headers: number, trailers: number): string {
  return (
    `${s.events} events in ${s.files} file(s)${s.first && s.last ? `, ${s.first} to ${s.last} (${s.seconds.toFixed(3)} s)` : ""}\n` +
    `lost in the kernel: ${s.lost}; dropped by capture filters: ${s.filtered}` +
    (trailers < headers ? ` (${headers - trailers} capture(s) without a trailer: stopped uncleanly, counts incomplete)` : "") +
    "\n" +
    table("per event", s.byEvent) +
    table("per process", s.byProcess) +
    table("per module", s.byModule) +
    table("failed calls per errno", s.failures) +
    table("load calls (init_module, finit_module) per container", s.loadsByContainer) +
    table("load calls per login uid", s.loadsByLogin) +
    table("load calls per ancestor chain", s.loadsByChain) +
    imageTable(s.images) +
    table("findings the capture made (severity, rule; modtrace findings recomputes them)", s.findings)
  );
}

/** Each module's images; a name loaded from two different images is flagged. */
function imageTable(images: Record<string, { sha256: string; size: number; loads: number; first: string; last: string }[]>): string {
  const names = Object.keys(images);
  if (!names.length) return "module images (sha256): none\n";
  let out = "module images (sha256):\n";
  for (const name of names) {
    const list = images[name];
    out += `  ${escapeText(name)}${list.length > 1 ? `: ${list.length} DIFFERENT IMAGES under one name` : ""}\n`;
    for (const i of list) out += `  ${String(i.loads).padStart(9)}  ${escapeText(i.sha256)}  ${i.size} bytes  ${i.first} to ${i.last}\n`;
  }
  return out;
}
