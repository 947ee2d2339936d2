// The Worker that tallies the later files of `stats` on the second core
// (log/tally-files.ts): it reads them as the main thread reads its own and
// hands its counts back to be merged.
import { readFileSync } from "node:fs";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder } from "../decoder/host";
import { Tally } from "./tally";
import type { EventFilter } from "./filter";

export interface TallyWork {
  files: string[];
  filter: EventFilter;
  rebuild: boolean;
}

declare const self: Worker;

self.onmessage = async (m: MessageEvent<TallyWork>) => {
  const { files, filter, rebuild } = m.data;
  const tally = new Tally(filter, rebuild ? await Decoder.load(readFileSync(wasmPath)) : undefined);
  // Running: the main thread may now keep its event loop busy (a Worker's
  // start needs that loop).
  self.postMessage("started");
  for (const file of files) tally.readFile(file);
  self.postMessage(tally.half());
};
