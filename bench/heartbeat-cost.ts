// What the heartbeat costs: the same idle capture for the same time, with
// the heartbeat off (the baseline) and at a rate far above its default (one
// round per 10 s), alternating; the CPU time modtrace used (user + system,
// as the kernel counted it for the process) per round beyond the baseline,
// and as a share of one core at the default interval. Needs root.
//   bun bench/heartbeat-cost.ts [SECONDS] [ROUNDS_PER_SECOND]
import { join } from "node:path";

const seconds = Number(process.argv[2] ?? 5);
// The capture loop looks every 100 ms: at most 10 rounds a second.
const rate = Number(process.argv[3] ?? 10);
const MODTRACE = join(import.meta.dir, "../dist/modtrace");

async function cpu(heartbeat: number): Promise<{ cpuMs: number; rounds: number }> {
  const proc = Bun.spawn([MODTRACE, "--no-findings", "--duration", String(seconds), "--heartbeat", String(heartbeat), "-o", "json:/dev/null"], { stdout: "ignore", stderr: "pipe" });
  const err = await new Response(proc.stderr).text();
  if ((await proc.exited) !== 0) throw new Error(`modtrace failed:\n${err}`);
  const usage = proc.resourceUsage()!;
  const rounds = Number(/heartbeat: (\d+) rounds?/.exec(err)?.[1] ?? 0);
  return { cpuMs: Number(usage.cpuTime.user + usage.cpuTime.system) / 1000, rounds };
}

const results: { off: number; on: number; rounds: number }[] = [];
for (let i = 0; i < 3; i++) {
  const off = await cpu(0);
  const on = await cpu(1 / rate);
  results.push({ off: off.cpuMs, on: on.cpuMs, rounds: on.rounds });
  console.log(`run ${i + 1}: heartbeat off ${off.cpuMs.toFixed(0)} ms CPU; ${on.rounds} rounds ${on.cpuMs.toFixed(0)} ms CPU (x${(on.cpuMs / off.cpuMs).toFixed(2)})`);
}
const perRound = results.map((r) => (r.on - r.off) / r.rounds).sort((a, b) => a - b)[1];
console.log(`heartbeat: ${(perRound * 1000).toFixed(0)} µs of CPU per round (median of 3), 4 failing syscalls per round;`);
console.log(`at the default (a round every 10 s): ${(perRound / 10_000 * 100).toFixed(4)} % of one core, 0.4 syscalls per second`);
