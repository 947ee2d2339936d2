// What sealing costs a CBOR log's writer: the same real events (the unit
// fixture's, repeated) through CborLog unsealed and sealed, to a file on
// the given directory, seals every batch of BATCH events (far more often
// than --seal-interval's 10 s would). Usage: bun bench/seal-cost.ts [DIR] [MiB]
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CborLog } from "../log/cbor-log";
import { itemEnd } from "../log/item-bounds";
import { SealKey } from "../log/seal";
import type { HeaderFields } from "../log/log-items";

const dir = process.argv[2] ?? "/tmp";
const mib = Number(process.argv[3] ?? 256);
const fixture = readFileSync(join(import.meta.dir, "../tests/fixtures/kernel-6.18.cbor"));
const items: Uint8Array[] = [];
for (let pos = 0; pos < fixture.length; ) {
  const end = itemEnd(fixture, pos);
  items.push(fixture.subarray(pos, end));
  pos = end;
}
const events = items.slice(1, -1);
// A batch as a capture's drain hands it over: some 256 KiB of items.
const BATCH = Math.floor((256 << 10) / (events.reduce((n, e) => n + e.length, 0) / events.length));
const batch = Array.from({ length: BATCH }, (_, i) => events[i % events.length]);
const bytes = Buffer.concat(batch);
const ends = new Uint32Array(BATCH);
batch.reduce((at, e, i) => (ends[i] = at + e.length), 0);
const header: HeaderFields = {
  startNs: 0n, bootTimeNs: 0n, events: [], hooks: {}, unavailable: {}, fellBack: {}, imageHook: { why: "bench" },
  filters: { pids: [], uids: [], comms: [] }, ancestors: 0, argv: [],
};
const totals = { endNs: 0n, counts: {}, written: 0, lostRingbuf: 0, lostPriority: 0, lostInflight: 0, filtered: 0 };

function run(sealed: boolean): number {
  const file = join(dir, `seal-cost-${sealed ? "sealed" : "plain"}.cbor`);
  const key = sealed ? SealKey.from(crypto.getRandomValues(new Uint8Array(32)), 10) : undefined;
  const log = new CborLog(file, header, {}, true, key);
  const rounds = Math.ceil((mib << 20) / bytes.length);
  const t = performance.now();
  for (let r = 0; r < rounds; r++) {
    log.writeEvents(bytes, ends);
    if (key && log.seal(0n)) key.evolve();
  }
  log.finish(totals);
  const s = (performance.now() - t) / 1000;
  rmSync(file);
  return (rounds * bytes.length) / (1 << 20) / s;
}

for (let i = 0; i < 3; i++) {
  const plain = run(false);
  const sealed = run(true);
  console.log(`plain ${plain.toFixed(0)} MiB/s, sealed ${sealed.toFixed(0)} MiB/s (${(100 * (1 - sealed / plain)).toFixed(1)}% slower), ${BATCH} events a batch`);
}
