// Runs every test tier and closes with one "N passed, N failed" line.
// A tier that cannot run here says why and is skipped; with CI=true a skip
// is a failure, so CI never passes on tests that did not run.
//   bun tests/run.ts [unit|host|analysis|vm ...]
import { existsSync } from "node:fs";
import { vmCannotRun } from "./vm/run";

interface Tier {
  name: string;
  dir: string;
  cannotRun(): string | undefined;
}

const TIERS: Tier[] = [
  { name: "unit", dir: "tests/unit", cannotRun: () => undefined },
  {
    name: "host",
    dir: "tests/host",
    cannotRun: () => {
      if (process.getuid?.() !== 0) return "needs root (it loads BPF programs)";
      if (!existsSync("/sys/kernel/btf/vmlinux")) return "this kernel has no BTF";
      if (!existsSync("dist/modtrace")) return "dist/modtrace is not built";
      return undefined;
    },
  },
  // Logs into DuckDB (embedded) and into two ClickHouse servers on loopback
  // (tests/analysis/clickhouse.ts; a ClickHouse that cannot start is a failure in CI).
  { name: "analysis", dir: "tests/analysis", cannotRun: () => (existsSync("dist/modtrace") ? undefined : "dist/modtrace is not built") },
  // Real module loads: Debian's 6.1 kernel under QEMU (software emulation).
  { name: "vm", dir: "tests/vm", cannotRun: vmCannotRun },
];

const ci = process.env.CI === "true";
const wanted = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

for (const tier of TIERS.filter((t) => wanted.length === 0 || wanted.includes(t.name))) {
  const reason = tier.cannotRun();
  if (reason) {
    console.log(`\n== ${tier.name}: cannot run: ${reason}${ci ? " (a failure in CI)" : " (skipped)"}`);
    if (ci) failed++;
    else skipped++;
    continue;
  }
  console.log(`\n== ${tier.name} tests`);
  const run = Bun.spawnSync([process.execPath, "test", "--timeout", "120000", tier.dir], {
    stdout: "inherit",
    stderr: "pipe",
    env: process.env,
  });
  const report = run.stderr.toString();
  process.stderr.write(report);
  const pass = Number(/^\s*(\d+) pass$/m.exec(report)?.[1] ?? 0);
  const fail = Number(/^\s*(\d+) fail$/m.exec(report)?.[1] ?? 0);
  passed += pass;
  failed += fail;
  if (run.exitCode !== 0 && fail === 0) {
    console.log(`== ${tier.name}: bun test exited ${run.exitCode} without a failing test: counted as one failure`);
    failed++;
  }
  if (pass + fail === 0) {
    console.log(`== ${tier.name}: no test ran: counted as one failure`);
    failed++;
  }
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
