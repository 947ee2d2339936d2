// `modtrace verify`: whether sealed CBOR logs (log/seal.ts) are as modtrace
// wrote them, file by file and set by set (log/seal-check.ts), said for a
// person or as JSON, with an exit status for scripts.
import { readFileSync } from "node:fs";
import { unreadable } from "../log/reader";
import { checkFile, checkSets, isoTime, type Verdict } from "../log/seal-check";
import { KeyDeriver } from "../log/seal";
import { Sink, type OutputSpec } from "../output/outputs";

export interface VerifyOptions {
  files: string[];
  key?: Uint8Array;
  output: OutputSpec;
}

const VERDICT_WORDS: Record<Verdict, string> = {
  intact: "intact",
  unproven: "chain intact, unproven",
  cut: "CUT",
  changed: "CHANGED",
  forged: "FORGED",
  "wrong-key": "WRONG KEY",
  unsealed: "NOT SEALED",
};

/** 0: every file intact (or its chain, without a key) and every set whole; 1: not; 2: a file cannot be read. */
export function verify(opts: VerifyOptions): number {
  const bad = unreadable(opts.files);
  if (bad.length) {
    for (const b of bad) process.stderr.write(`modtrace: cannot read ${b.file}: ${b.why}\n`);
    return 2;
  }
  const keys = opts.key && new KeyDeriver(opts.key);
  const checks = opts.files.map((f) => checkFile(f, readFileSync(f), keys));
  const sets = checkSets(checks);
  const whole = checks.every((c) => c.verdict === "intact" || c.verdict === "unproven") && sets.every((s) => !s.problems.length);
  const sink = Sink.open(opts.output);
  try {
    if (opts.output.format === "json") {
      const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? (x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : String(x)) : x));
      const files = checks.map((c) => ({
        file: c.file, verdict: c.verdict, items: c.items, seals: c.seals, part: c.header?.part,
        lastGoodSeal: c.lastGoodSeal && { ...c.lastGoodSeal, time: isoTime(c.lastGoodSeal.time) },
        trailer: Boolean(c.trailer), problems: c.problems, notes: c.notes,
      }));
      sink.write(Buffer.from(json({ intact: whole, keyChecked: Boolean(keys), files, sets }) + "\n"));
    } else {
      let text = "";
      for (const c of checks) {
        const last = c.lastGoodSeal ? `, the last vouched at ${isoTime(c.lastGoodSeal.time)}` : "";
        const counts = c.verdict === "unsealed" || !c.items ? "" : `: ${c.items} items, ${c.seals} seals${last}${c.verdict === "intact" ? "; every MAC matches the key" : ""}`;
        text += `${c.file}: ${VERDICT_WORDS[c.verdict]}${counts}\n`;
        for (const p of c.problems) text += `  - ${p}\n`;
        for (const n of c.notes) text += `  note: ${n}\n`;
      }
      for (const s of sets) {
        if (s.files.length < 2 && !s.problems.length && !s.notes.length) continue;
        text += `set of ${s.capture}: ${s.files.length} file${s.files.length > 1 ? "s" : ""}, ${s.problems.length ? "NOT WHOLE" : "each following the one before"}\n`;
        for (const p of s.problems) text += `  - ${p}\n`;
        for (const n of s.notes) text += `  note: ${n}\n`;
      }
      text += whole
        ? keys ? "verify: intact\n" : "verify: chains intact; without the key, not proof against root\n"
        : "verify: NOT INTACT\n";
      sink.write(Buffer.from(text));
    }
  } finally {
    sink.close();
  }
  return whole ? 0 : 1;
}
