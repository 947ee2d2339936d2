// Not a test: a tool for the intermittent crash of modtrace under emulation
// (a Bun panic in 2-4 captures in 100 before cmd/entry.ts turned JavaScript-
// Core's WebAssembly OSR off). Many captures in one boot, the attach modes
// taken in turn, each followed by an offline read of its log; each one's exit
// status, and the crash reports of those that died.
//   bun tests/vm/crash-hunt.ts [--cpu QEMU_CPU] [--accel QEMU_ACCEL] [--env NAME=VALUE]... MODES ROUNDS [MODTRACE_OPTIONS...]
//   e.g. bun tests/vm/crash-hunt.ts fentry,kprobe,raw 300
//        bun tests/vm/crash-hunt.ts --accel tcg kprobe 150   (multi-threaded TCG: where the crash was seen)
//        bun tests/vm/crash-hunt.ts --cpu max,-avx,-avx2 kprobe 50 --no-findings
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_ACCEL, guestScript, REPO, runInVm } from "./run";

const args = process.argv.slice(2);
let cpu = "max";
let accel = DEFAULT_ACCEL;
const env: string[] = [];
while (args[0] === "--cpu" || args[0] === "--accel" || args[0] === "--env") {
  const [flag, value] = args.splice(0, 2);
  if (flag === "--cpu") cpu = value!;
  else if (flag === "--accel") accel = value!;
  else if (/^\w+=\S*$/.test(value ?? "")) env.push(value!);
  else { console.error(`--env takes NAME=VALUE, got '${value}'`); process.exit(2); }
}
const [modes, rounds, ...extra] = args;
if (!modes || !/^\d+$/.test(rounds ?? "")) {
  console.error("usage: bun tests/vm/crash-hunt.ts [--cpu QEMU_CPU] [--accel QEMU_ACCEL] [--env NAME=VALUE]... MODES ROUNDS [MODTRACE_OPTIONS...]");
  process.exit(2);
}
const r = await runInVm({
  cpu,
  accel,
  timeoutSec: 120 * Number(rounds) + 300,
  script: guestScript("crash-hunt-guest.sh", { MODES: modes, ROUNDS: rounds, EXTRA: extra.join(" "), MTENV: env.join(" ") }),
  files: { "/root/trigger": join(REPO, "tests/trigger") },
});
const text = (k: string) => new TextDecoder().decode(r.outputs[k] ?? new Uint8Array());
// Every crash report whole, for what the summary below leaves out (Bun's
// report link, the lines before the panic).
const saved = resolve("vm-out/crash-hunt");
mkdirSync(saved, { recursive: true });
for (const [name, data] of Object.entries(r.outputs)) writeFileSync(join(saved, name.replaceAll("/", "_")), data);
// "round N MODE capture|read rc STATUS"
const results = text("rounds.txt").trim().split("\n").filter(Boolean).map((l) => l.split(" "));
console.log(`-accel ${accel} -cpu ${cpu}${env.length ? ` ${env.join(" ")}` : ""} ${extra.join(" ")}: ${Number(rounds)} rounds in ${r.seconds.toFixed(0)} s`);
for (const mode of modes.split(",")) {
  for (const kind of ["capture", "read"]) {
    const mine = results.filter((f) => f[2] === mode && f[3] === kind);
    console.log(`  ${mode.padEnd(7)} ${kind.padEnd(8)} ${mine.length} run, ${mine.filter((f) => f[5] !== "0").length} not exiting 0`);
  }
}
for (const f of results.filter((f) => f[5] !== "0")) {
  const file = f[3] === "read" ? `err-${f[1]}-read.txt` : `err-${f[1]}.txt`;
  console.log(`--- ${f.join(" ")}\n${text(file).split("\n").filter((l) => /panic|Segmentation|Illegal|Abort|bun\.report|CPU:|error/.test(l)).join("\n")}`);
}
if (results.length !== 2 * Number(rounds)) console.log(`only ${results.length} of ${2 * Number(rounds)} results came back (the VM ran out of time?)`);
console.log(`the guest's files, crash reports whole: ${saved}`);
