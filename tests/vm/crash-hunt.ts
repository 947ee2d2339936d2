// Not a test: a tool for the intermittent crash of modtrace under emulation
// (a Bun panic, about 2-4 captures in 100 in kprobe mode). Many captures in
// one boot, each one's exit status, and the crash reports of those that died.
//   bun tests/vm/crash-hunt.ts [--cpu QEMU_CPU] MODE ROUNDS [MODTRACE_OPTIONS...]
//   e.g. bun tests/vm/crash-hunt.ts kprobe 50 --read-at exit --no-findings
//        bun tests/vm/crash-hunt.ts --cpu max,-avx,-avx2 kprobe 50
import { join } from "node:path";
import { guestScript, REPO, runInVm } from "./run";

const args = process.argv.slice(2);
const cpu = args[0] === "--cpu" ? (args.splice(0, 2)[1]) : "max";
const [mode, rounds, ...extra] = args;
if (!mode || !/^\d+$/.test(rounds ?? "")) {
  console.error("usage: bun tests/vm/crash-hunt.ts [--cpu QEMU_CPU] MODE ROUNDS [MODTRACE_OPTIONS...]");
  process.exit(2);
}
const r = await runInVm({
  cpu,
  timeoutSec: 120 * Number(rounds) + 300,
  script: guestScript("crash-hunt-guest.sh", { MODE: mode, ROUNDS: rounds, EXTRA: extra.join(" ") }),
  files: { "/root/trigger": join(REPO, "tests/trigger") },
});
const text = (k: string) => new TextDecoder().decode(r.outputs[k] ?? new Uint8Array());
const results = text("rounds.txt").trim().split("\n").filter(Boolean);
const failed = results.filter((l) => !l.endsWith(" rc 0"));
console.log(`-cpu ${cpu}, --attach ${mode} ${extra.join(" ")}: ${results.length} captures in ${r.seconds.toFixed(0)} s, ${failed.length} not exiting 0`);
for (const line of failed) {
  const round = line.split(" ")[1];
  console.log(`--- ${line}\n${text(`err-${round}.txt`).split("\n").filter((l) => /panic|Segmentation|Illegal|Abort|bun\.report|CPU:/.test(l)).join("\n")}`);
}
