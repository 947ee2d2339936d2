// What hashing module images costs a load, measured inside the VM tier's
// Debian 6.1 guest (software emulation: absolute times are the emulator's,
// the ratios are the figures): modprobe of the 8021q chain (five modules)
// and insmod of xfs (4 MiB), with no modtrace, with modtrace --no-hash and
// with modtrace hashing, in rounds whose order rotates. Medians.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, runInVm, vmCannotRun } from "../tests/vm/run";

const ROUNDS = Number(process.env.BENCH_IMAGE_ROUNDS ?? 6);
const REPEAT = 3;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function benchImageHash(): Promise<string[]> {
  const cannot = vmCannotRun();
  if (cannot) return [`image hashing: not measured (${cannot})`];
  const r = await runInVm({
    script: `ROUNDS=${ROUNDS}\nREPEAT=${REPEAT}\n` + readFileSync(join(REPO, "bench/image-hash-guest.sh"), "utf8"),
    files: { "/root/trigger": join(REPO, "tests/trigger") },
    modules: ["xfs"],
    timeoutSec: 1800,
  });
  const data = r.outputs["times.jsonl"];
  if (r.exitCode !== 0 || !data) throw new Error(`the image-hash benchmark failed in the guest:\n${r.console}`);
  const rows = new TextDecoder().decode(data).trim().split("\n").map((l) => JSON.parse(l));
  for (const row of rows) if (row.time.status !== 0) throw new Error(`a timed load failed: ${JSON.stringify(row)}\n${r.console}`);
  const lines = [`image hashing in the Debian 6.1 guest (TCG), median and best of ${ROUNDS * REPEAT} loads each (${ROUNDS} rounds, rotating order):`];
  for (const load of ["8021q-chain", "xfs"]) {
    const samples = (config: string) => rows.filter((x) => x.load === load && x.config === config).map((x) => x.time.seconds);
    const t = (config: string) => median(samples(config));
    const [bare, noHash, hash] = [t("bare"), t("no-hash"), t("hash")];
    const best = (config: string) => Math.min(...samples(config));
    lines.push(
      `  ${load.padEnd(12)} bare ${(bare * 1000).toFixed(1)} ms, --no-hash ${(noHash * 1000).toFixed(1)} ms (x${(noHash / bare).toFixed(2)}), ` +
        `hashing ${(hash * 1000).toFixed(1)} ms (x${(hash / bare).toFixed(2)} of bare, x${(hash / noHash).toFixed(2)} of --no-hash)`,
      `  ${"".padEnd(12)} best: bare ${(best("bare") * 1000).toFixed(1)} ms, --no-hash x${(best("no-hash") / best("bare")).toFixed(2)}, ` +
        `hashing x${(best("hash") / best("bare")).toFixed(2)} of bare, x${(best("hash") / best("no-hash")).toFixed(2)} of --no-hash`,
    );
  }
  const summaries = r.console.split("\n").filter((l) => l.startsWith("modtrace: module images")).length;
  lines.push(`  (${summaries} hashing captures, each reporting its images)`);
  return lines;
}

if (import.meta.main) for (const l of await benchImageHash()) console.log(l);
