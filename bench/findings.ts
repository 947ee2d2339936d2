// What the findings rules add to a capture's user-space work: the decoder's
// CBOR output for a batch of real records (bench/decoder.ts's batch) alone,
// and followed by the rules engine over the same records, interleaved in one
// process; then modtrace's own CPU time through a flood of 100,000 failed
// unloads, with and without the rules, rounds alternating (needs root).
import { readFileSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { Decoder } from "../decoder/host";
import { findingsConfig } from "../findings/config";
import { FindingsEngine } from "../findings/engine";
import { BATCH_RECORDS, batch, median, medianRatio, timeInterleaved } from "./decoder";

const FLOOD = 100_000;
const FLOOD_ROUNDS = 5;

/** modtrace's user+system CPU seconds while the trigger floods it. */
async function floodCpu(args: string[]): Promise<number> {
  const mt = spawn("dist/modtrace", [...args, "--comm", "mt-trigger", "-o", "cbor:/dev/null"], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  mt.stderr!.on("data", (d) => (err += d));
  while (!err.includes("capturing")) await Bun.sleep(20);
  const ticks = () => readFileSync(`/proc/${mt.pid}/stat`, "utf8").split(") ")[1].split(" ").slice(11, 13).reduce((a, b) => a + Number(b), 0);
  const before = ticks();
  spawnSync("tests/trigger", ["burst", String(FLOOD)]);
  await Bun.sleep(1000); // drained: the reader polls every 100 ms
  const used = (ticks() - before) / 100;
  mt.kill("SIGINT");
  await new Promise((resolve) => mt.on("exit", resolve));
  return used;
}

async function benchFlood(): Promise<string[]> {
  if (process.getuid?.() !== 0) return ["  flood: needs root (it captures)"];
  const bare: number[] = [];
  const judged: number[] = [];
  for (let i = 0; i < FLOOD_ROUNDS; i++) {
    bare.push(await floodCpu(["--no-findings"]));
    judged.push(await floodCpu([]));
  }
  return [
    `  flood of ${FLOOD} failed unloads, ${FLOOD_ROUNDS} rounds alternating: modtrace CPU ${median(bare).toFixed(2)} s without the rules, ${median(judged).toFixed(2)} s with: x${medianRatio(judged, bare).toFixed(2)}`,
  ];
}

export async function benchFindings(): Promise<string[]> {
  const decoder = await Decoder.load(readFileSync(new URL("../build/decoder.wasm", import.meta.url)));
  const engine = new FindingsEngine(findingsConfig());
  const load = () => {
    decoder.inputView(batch.length).set(batch);
    return decoder.span(batch.length).bytes;
  };
  const times = timeInterleaved([
    ["decode to cbor", () => decoder.decode(load(), "cbor").length],
    ["decode to cbor, then the rules", () => {
      const len = load();
      const n = decoder.decode(len, "cbor").length;
      engine.feed(decoder, len, 0n);
      return n;
    }],
    ["the rules alone", () => engine.feed(decoder, load(), 0n).length],
  ]);
  const t = (name: string) => times.get(name)!;
  const perEvent = (name: string) => ((median(t(name)) / BATCH_RECORDS) * 1e9).toFixed(0);
  return [
    `Findings rules: batches of ${BATCH_RECORDS} records (the decoder benchmark's), variants interleaved; medians`,
    `  decode to cbor                  ${perEvent("decode to cbor")} ns/event`,
    `  the rules alone                 ${perEvent("the rules alone")} ns/event`,
    `  decode, then the rules          ${perEvent("decode to cbor, then the rules")} ns/event: x${medianRatio(t("decode to cbor, then the rules"), t("decode to cbor")).toFixed(2)} of decoding alone`,
    ...(await benchFlood()),
  ];
}

if (import.meta.main) for (const l of await benchFindings()) console.log(l);
