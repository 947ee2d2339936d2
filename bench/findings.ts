// What the findings rules add to a capture's user-space work: the decoder's
// CBOR output for a batch of real records (bench/decoder.ts's batch) alone,
// and followed by the rules engine over the same records, interleaved in one
// process; the ratio is the cost of judging as well as writing.
import { readFileSync } from "node:fs";
import { Decoder } from "../decoder/host";
import { findingsConfig } from "../cmd/findings/config";
import { FindingsEngine } from "../cmd/findings/engine";
import { BATCH_RECORDS, batch, median, medianRatio, timeInterleaved } from "./decoder";

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
  ];
}

if (import.meta.main) for (const l of await benchFindings()) console.log(l);
