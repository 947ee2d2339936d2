// Offline work on one large log, against a baseline measured in the same
// run: Debian's python3-cbor2 (its C extension) merely decoding every item
// of the same log. The log is a burst of 200,000 failed delete_module calls
// captured here with --buffer-size 64 (some 220 MB). Each command's wall
// time (median of ROUNDS, rounds interleaved with the baseline's) and its
// peak RSS (GNU time's maximum resident set size). Needs root (it captures).
//   bun bench/offline.ts [EVENTS]
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { median, medianRatio } from "./decoder";

const EVENTS = Number(process.argv[2] ?? 200_000);
const ROUNDS = 3;

const CBOR2_DECODE = `import sys, cbor2
n = 0
with open(sys.argv[1], "rb") as f:
    d = cbor2.CBORDecoder(f)
    while True:
        try:
            d.decode()
        except cbor2.CBORDecodeEOF:
            break
        n += 1
print(n)`;

/** A log of `events` failed unloads, captured here. */
async function captureLog(dir: string, events: number): Promise<string> {
  const log = join(dir, "burst.cbor");
  const mt = spawn("dist/modtrace", ["--comm", "mt-trigger", "--buffer-size", "64", "--no-findings", "--heartbeat", "0", "-o", `cbor:${log}`], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  mt.stderr!.on("data", (d) => (err += d));
  while (!err.includes("capturing")) await Bun.sleep(20);
  spawnSync("tests/trigger", ["burst", String(events)], { stdio: "ignore" });
  // Drained when the count the status would give is all there: wait on the stop's own summary.
  mt.kill("SIGINT");
  await new Promise((resolve) => mt.on("exit", resolve));
  const captured = Number(/(\d+) events captured/.exec(err)?.[1] ?? 0);
  if (captured < events) throw new Error(`the capture holds ${captured} of ${events} events:\n${err}`);
  return log;
}

/** Wall seconds and peak RSS (MiB) of one command. */
function measure(cmd: string[]): { seconds: number; rssMiB: number } {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", ...cmd], { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}): ${r.stderr}`);
  const [seconds, kib] = r.stderr.toString().trim().split("\n").at(-1)!.split(" ").map(Number);
  return { seconds, rssMiB: kib / 1024 };
}

export async function benchOffline(events = EVENTS): Promise<string[]> {
  if (process.getuid?.() !== 0) return ["  offline: needs root (it captures its log)"];
  const dir = mkdtempSync(join(process.cwd(), ".bench-offline-"));
  try {
    const log = await captureLog(dir, events);
    const commands: [string, string[]][] = [
      ["stats", ["dist/modtrace", "stats", log]],
      ["read -o json", ["dist/modtrace", "read", "-o", "json", log]],
      ["findings -o json", ["dist/modtrace", "findings", "-o", "json", log]],
      ["read -o rows", ["dist/modtrace", "read", "-o", "rows", log]],
      ["read -o parquet:", ["dist/modtrace", "read", "-o", `parquet:${join(dir, "pq")}`, "--overwrite", log]],
    ];
    const base: number[] = [];
    const runs = new Map(commands.map(([name]) => [name, [] as { seconds: number; rssMiB: number }[]]));
    for (let round = 0; round < ROUNDS; round++) {
      base.push(measure(["/usr/bin/python3", "-c", CBOR2_DECODE, log]).seconds);
      for (const [name, cmd] of commands) {
        rmSync(join(dir, "pq"), { recursive: true, force: true });
        runs.get(name)!.push(measure(cmd));
      }
    }
    const lines = [`Offline, one log of ${events} events (${(statSync(log).size / 1e6).toFixed(0)} MB), ${ROUNDS} rounds interleaved; baseline python3-cbor2 decoding every item: ${median(base).toFixed(2)} s`];
    for (const [name, r] of runs) {
      const seconds = r.map((x) => x.seconds);
      lines.push(`  ${name.padEnd(18)} ${median(seconds).toFixed(2).padStart(6)} s  speed vs cbor2's decode x${(1 / medianRatio(seconds, base)).toFixed(2)}  peak RSS ${Math.max(...r.map((x) => x.rssMiB)).toFixed(0)} MiB`);
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) for (const l of await benchOffline()) console.log(l);
