// What one module syscall costs inside the kernel's BPF programs, from the
// kernel's own accounting (kernel.bpf_stats_enabled: run time and run count
// per program). In raw mode the sys_exit program also runs, and returns at
// once, for every other syscall on the host: that cheap path is measured on
// its own (getppid) and taken out. The executable-path walk is shown by the
// same calls made from a shallow and from a deep copy of the trigger, the
// ancestry walk by the same calls with --ancestors 0.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const MODTRACE = join(ROOT, "dist/modtrace");
const TRIGGER = join(ROOT, "tests/trigger");
const CALLS = Number(process.env.BENCH_KERNEL_CALLS ?? 50_000);
const TRIALS = 9; // short trials, median and best: a noisy machine inflates some of them a lot
const DEPTH = 12;

interface ProgStats {
  runNs: number;
  runs: number;
}

function programStats(): Map<string, ProgStats> {
  const progs = JSON.parse(Bun.spawnSync(["bpftool", "-j", "prog", "show"]).stdout.toString()) as any[];
  return new Map(progs.filter((p) => p.run_cnt !== undefined).map((p) => [p.name, { runNs: p.run_time_ns, runs: p.run_cnt }]));
}

/** Run time and runs of each program while fn runs. */
function during(fn: () => void): Map<string, ProgStats> {
  const before = programStats();
  fn();
  const after = programStats();
  return new Map([...after].map(([name, a]) => [name, { runNs: a.runNs - (before.get(name)?.runNs ?? 0), runs: a.runs - (before.get(name)?.runs ?? 0) }]));
}

function run(cmd: string[]) {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
}

async function attached(args: string[]) {
  const proc = Bun.spawn([MODTRACE, ...args, "-o", "cbor:/dev/null"], { stderr: "pipe", stdout: "ignore" });
  let err = "";
  const reader = (async () => {
    for await (const c of proc.stderr as ReadableStream) err += new TextDecoder().decode(c as Uint8Array);
  })();
  for (let i = 0; i < 600 && !err.includes("capturing"); i++) await Bun.sleep(50);
  if (!err.includes("capturing")) throw new Error(`modtrace did not start: ${err}`);
  return {
    hook: /capturing delete_module \(([^)]+)\)/.exec(err)?.[1] ?? "?",
    stop: async () => {
      proc.kill("SIGINT");
      await proc.exited;
      await reader;
    },
  };
}

/** ns per delete_module in the module-syscall programs, the cheap path of
 * every other syscall taken out. */
function perCall(stats: Map<string, ProgStats>, calls: number, cheapNs: number): { total: number; byProgram: [string, number][] } {
  let total = 0;
  const byProgram: [string, number][] = [];
  for (const [name, s] of stats) {
    if (!s.runs) continue;
    const others = Math.max(0, s.runs - calls);
    const ns = (s.runNs - others * cheapNs) / calls;
    total += ns;
    byProgram.push([name, ns]);
  }
  return { total, byProgram };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[]) => `${median(xs).toFixed(0)} ns (best ${Math.min(...xs).toFixed(0)})`;

export async function benchKernelCost(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "modtrace-kcost-"));
  const shallow = join(dir, "t");
  let deepDir = dir;
  for (let i = 0; i < DEPTH; i++) deepDir = join(deepDir, `d${i}`);
  mkdirSync(deepDir, { recursive: true });
  const deep = join(deepDir, "t");
  copyFileSync(TRIGGER, shallow);
  copyFileSync(TRIGGER, deep);
  run(["chmod", "755", shallow, deep]);
  const shallowDepth = shallow.split("/").length - 1;
  const deepDepth = deep.split("/").length - 1;

  const wasEnabled = readFileSync("/proc/sys/kernel/bpf_stats_enabled", "utf8").trim();
  writeFileSync("/proc/sys/kernel/bpf_stats_enabled", "1");
  const lines: string[] = [];
  try {
    // The caller context's ancestry walk is measured by turning it off (--ancestors 0).
    const variants: [string, string[]][] = [
      ["--read-at exit", ["--read-at", "exit"]],
      ["--read-at entry", ["--read-at", "entry"]],
      ["--read-at exit --ancestors 0", ["--read-at", "exit", "--ancestors", "0"]],
    ];
    for (const [label, args] of variants) {
      const m = await attached(["-e", "delete_module", ...args]);
      const cheap: number[] = [];
      const fromShallow: number[] = [];
      const fromDeep: number[] = [];
      const byProgram = new Map<string, number[]>();
      for (let trial = 0; trial < TRIALS; trial++) {
        const c = during(() => run([TRIGGER, "getppid", String(CALLS)]));
        const runs = [...c.values()].reduce((n, s) => n + s.runs, 0);
        const cheapNs = runs ? [...c.values()].reduce((n, s) => n + s.runNs, 0) / runs : 0;
        cheap.push(cheapNs);
        const shallowRun = perCall(during(() => run([shallow, "burst", String(CALLS)])), CALLS, cheapNs);
        fromShallow.push(shallowRun.total);
        for (const [name, ns] of shallowRun.byProgram) byProgram.set(name, [...(byProgram.get(name) ?? []), ns]);
        fromDeep.push(perCall(during(() => run([deep, "burst", String(CALLS)])), CALLS, cheapNs).total);
      }
      await m.stop();
      const perComponent = fromDeep.map((d, i) => (d - fromShallow[i]) / (deepDepth - shallowDepth));
      lines.push(
        `  ${label} (${m.hook}): ${spread(fromShallow)} per delete_module (${[...byProgram].map(([n, xs]) => `${n} ${spread(xs)}`).join(", ")}); other syscalls ${spread(cheap)} each`,
        `    executable path walk: ${spread(fromDeep)} from a ${deepDepth}-component path, ${spread(fromShallow)} from ${shallowDepth}: ${median(perComponent).toFixed(0)} ns per component`,
      );
    }
  } finally {
    writeFileSync("/proc/sys/kernel/bpf_stats_enabled", wasEnabled);
  }
  return [`Kernel-side cost per module syscall (bpf_stats; ${TRIALS} trials of ${CALLS} delete_module calls from one thread, medians; lower is better)`, ...lines];
}

if (import.meta.main) for (const l of await benchKernelCost()) console.log(l);
