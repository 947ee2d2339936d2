// What the heartbeat costs: the same idle capture for the same time, with
// the heartbeat off (the baseline) and at a rate far above its default (one
// round per 10 s), alternating; the CPU time modtrace used (user + system,
// as the kernel counted it for the process) per round beyond the baseline,
// and as a share of one core at the default interval. Then what taking its
// records out of every batch costs a burst: the walk over 1,024 real failed
// delete_module records (root's, the kind it looks at hardest), against
// copying them in. Needs root.
//   bun bench/heartbeat-cost.ts [SECONDS] [ROUNDS_PER_SECOND]
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { eventByName } from "../catalogue/events";
import { Heartbeat } from "../findings/heartbeat";
import { readLog } from "../log/reader";
import { writeRecords } from "../record/records";
import { Decoder } from "../decoder/host";

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

const decoder = await Decoder.load(readFileSync(wasmPath));
const FLEET = join(import.meta.dir, "../tests/fixtures/vm");
const fleet: any[] = readdirSync(FLEET).flatMap((h) => readdirSync(join(FLEET, h)).flatMap((f) => [...readLog(join(FLEET, h, f), [])].filter((i) => i.kind === "event").map((i) => i.value)));
const failed = fleet.find((e) => e.eventName === "delete_module" && Number(e.returnValue) < 0 && e.capabilities?.sysModule);
const len = writeRecords(Array.from({ length: 1024 }, () => structuredClone(failed)), decoder);
const batch = decoder.inputView(len).slice();
const hb = new Heartbeat([{ event: eventByName("delete_module")!, hook: "bench" }], 1000, () => {}, () => 0, () => 0);
const ROUNDS = 300;
const time = (strip: boolean) => {
  const t = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    decoder.inputView(len).set(batch);
    if (strip && hb.strip(decoder.inputView(len), len) !== len) throw new Error("a failed call of another process was taken out");
  }
  return (performance.now() - t) / 1000;
};
const copy = Math.min(time(false), time(false));
const walk = Math.min(time(true), time(true)) - copy;
console.log(`strip: ${((1024 * ROUNDS) / walk / 1e6).toFixed(1)} M records/s beyond the copy (copy alone ${((1024 * ROUNDS) / copy / 1e6).toFixed(1)} M records/s)`);
