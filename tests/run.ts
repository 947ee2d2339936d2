// Runs every test tier and closes with one "N passed, N failed" line.
// A tier that cannot run here says why and is skipped; with CI=true a skip
// is a failure, so CI never passes on tests that did not run. Each tier's
// time, and each VM file's, is printed at the end: CI has 90 minutes, and
// the budget should be visible in every log.
//   bun tests/run.ts [build|unit|host|analysis|vm ...]
// The VM files run side by side, MODTRACE_VM_LANES at a time (default: one per
// core, memory allowing): each VM's emulation runs on one host thread
// (tests/vm/run.ts, DEFAULT_ACCEL), so one file alone leaves the other cores idle.
import { existsSync, readdirSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import { vmCannotRun } from "./vm/run";

interface Tier {
  name: string;
  dir: string;
  /** One `bun test` per file, each timed (the slow VM files); otherwise one for the tier. */
  perFile?: boolean;
  /** How many of its files run at once (perFile only; default 1). */
  lanes?: () => number;
  /** Commands run once before its files: shared caches a file would otherwise
   * build itself, racing the files beside it. */
  setup?: string[][];
  cannotRun(): string | undefined;
}

/** One VM per core; each wants up to 3 GiB, with room to spare for the host. */
function vmLanes(): number {
  const asked = Number(process.env.MODTRACE_VM_LANES);
  if (Number.isInteger(asked) && asked > 0) return asked;
  return Math.max(1, Math.min(availableParallelism(), Math.floor(totalmem() / 2 ** 30 / 4)));
}

const TIERS: Tier[] = [
  // The build from Debian's source packages, with its first choice made unavailable.
  {
    name: "build",
    dir: "tests/build",
    cannotRun: () => (existsSync("/usr/bin/apt-get") ? undefined : "needs Debian's apt-get (it fetches source packages)"),
  },
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
  {
    name: "vm",
    dir: "tests/vm",
    perFile: true,
    lanes: vmLanes,
    setup: [["tests/vm/prepare.sh"], ["tests/vm/modules/build.sh"]],
    cannotRun: vmCannotRun,
  },
];

const ci = process.env.CI === "true";
const wanted = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
const times: { what: string; seconds: number; pass: number; fail: number }[] = [];

/** One `bun test` over PATHS: its counts, and a failure for a run that failed
 * without a failing test or ran none. Its output comes in one piece when it
 * ends, so files running side by side do not interleave. */
async function runTests(label: string, paths: string[]) {
  const start = performance.now();
  const run = Bun.spawn([process.execPath, "test", "--timeout", "120000", ...paths], {
    stdout: "pipe",
    stderr: "pipe",
    env: process.env,
  });
  const [out, report] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text()]);
  await run.exited;
  process.stdout.write(out);
  process.stderr.write(report);
  let pass = Number(/^\s*(\d+) pass$/m.exec(report)?.[1] ?? 0);
  let fail = Number(/^\s*(\d+) fail$/m.exec(report)?.[1] ?? 0);
  if (run.exitCode !== 0 && fail === 0) {
    console.log(`== ${label}: bun test exited ${run.exitCode ?? `by signal ${run.signalCode}`} without a failing test: counted as one failure`);
    fail++;
  }
  if (pass + fail === 0) {
    console.log(`== ${label}: no test ran: counted as one failure`);
    fail++;
  }
  return { pass, fail, seconds: (performance.now() - start) / 1000 };
}

/** Runs the setup commands; the first that fails is the tier's one failure. */
function setUp(tier: Tier): string | undefined {
  for (const cmd of tier.setup ?? []) {
    const r = Bun.spawnSync(cmd, { stdout: "inherit", stderr: "inherit" });
    if (r.exitCode !== 0) return `${cmd.join(" ")} exited ${r.exitCode ?? `by signal ${r.signalCode}`}`;
  }
  return undefined;
}

for (const tier of TIERS.filter((t) => wanted.length === 0 || wanted.includes(t.name))) {
  const reason = tier.cannotRun();
  if (reason) {
    console.log(`\n== ${tier.name}: cannot run: ${reason}${ci ? " (a failure in CI)" : " (skipped)"}`);
    if (ci) failed++;
    else skipped++;
    continue;
  }
  const start = performance.now();
  const setupFailed = setUp(tier);
  if (setupFailed) {
    console.log(`\n== ${tier.name}: set-up failed: ${setupFailed}`);
    times.push({ what: tier.name, seconds: (performance.now() - start) / 1000, pass: 0, fail: 1 });
    failed++;
    continue;
  }
  const files = tier.perFile
    ? readdirSync(tier.dir).filter((f) => f.endsWith(".test.ts")).sort().map((f) => join(tier.dir, f))
    : [tier.dir];
  const lanes = Math.min(files.length, tier.lanes?.() ?? 1);
  console.log(`\n== ${tier.name} tests${lanes > 1 ? ` (${lanes} files at a time)` : ""}`);
  const tierTotal = { pass: 0, fail: 0, seconds: 0 };
  const queue = [...files];
  const lane = async () => {
    for (let path = queue.shift(); path; path = queue.shift()) {
      if (lanes > 1) console.log(`== ${tier.name}: started ${path}`);
      const r = await runTests(tier.perFile ? path : tier.name, [path.startsWith("tests/") ? `./${path}` : path]);
      if (tier.perFile) times.push({ what: `  ${path}`, ...r });
      tierTotal.pass += r.pass;
      tierTotal.fail += r.fail;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  // Wall-clock time: with lanes, the files' own times add up to more.
  tierTotal.seconds = (performance.now() - start) / 1000;
  times.push({ what: tier.name, ...tierTotal });
  passed += tierTotal.pass;
  failed += tierTotal.fail;
}

console.log("\n== times");
for (const t of times) console.log(`${t.what.padEnd(40)} ${t.seconds.toFixed(0).padStart(6)} s   ${t.pass} passed, ${t.fail} failed`);
console.log(`${"total".padEnd(40)} ${times.filter((t) => !t.what.startsWith(" ")).reduce((s, t) => s + t.seconds, 0).toFixed(0).padStart(6)} s`);

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
