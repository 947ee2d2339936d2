// Logs of a simulated fleet for bench/analysis.ts: real captured events (the
// analysis tier's fixtures from Debian 6.1), written as each host's CBOR log
// with the host's own name, kernel, boot time, times and pids. A few hosts
// also load a module of their own, so "a module nobody else loads" has answers.
import { decodeMultiple } from "cbor-x/decode";
import { Encoder } from "cbor-x/encode";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const FIXTURES = new URL("../tests/fixtures/vm", import.meta.url).pathname;
const KERNELS = ["6.1.0-56-amd64", "6.1.0-37-amd64", "6.12.48+deb13-amd64", "5.10.0-35-amd64"];
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

function fixtureItems() {
  const events: any[] = [];
  let header: any;
  let trailer: any;
  for (const host of readdirSync(FIXTURES).sort())
    for (const file of readdirSync(join(FIXTURES, host)).sort())
      decodeMultiple(readFileSync(join(FIXTURES, host, file)), (item: any) => {
        if (item.format && !item.trailer) header ??= item;
        else if (item.format) trailer = item.counts ? item : trailer;
        else events.push(item);
      });
  return { header, trailer, events };
}

/** Writes one log per host into dir; returns the files. */
export function writeFleetLogs(dir: string, hosts: number, eventsPerHost: number): string[] {
  mkdirSync(dir, { recursive: true });
  const { header, trailer, events } = fixtureItems();
  const files: string[] = [];
  const day = 86_400_000_000_000n;
  for (let h = 0; h < hosts; h++) {
    const host = `host-${String(h).padStart(4, "0")}`;
    const bootTime = BigInt(header.bootTime) - BigInt(h) * 3_600_000_000_000n;
    const start = BigInt(header.start) - 30n * day;
    const step = (30n * day) / BigInt(eventsPerHost);
    const counts: Record<string, number> = {};
    const items: Uint8Array[] = [cbor.encode({ ...header, host, kernel: KERNELS[h % KERNELS.length], bootTime, start })];
    for (let i = 0; i < eventsPerHost; i++) {
      const e = structuredClone(events[(i + h) % events.length]);
      e.timestamp = start + BigInt(i) * step;
      e.hostProcessId = e.processId = 1000 + ((e.hostProcessId + h * 7) % 60000);
      if (e.callId !== undefined) e.callId = BigInt(e.callId) + BigInt(h) * 1_000_000_000n;
      // Every 97th host loads a module of its own.
      if (h % 97 === 0 && e.eventName === "module_load") e.args.find((a: any) => a.name === "name").value = `${host}_only`;
      counts[e.eventName] = (counts[e.eventName] ?? 0) + 1;
      items.push(cbor.encode(e));
    }
    items.push(cbor.encode({ ...trailer, end: start + 30n * day, counts, events: eventsPerHost, eventsInFile: eventsPerHost }));
    const file = join(dir, `${host}.cbor`);
    writeFileSync(file, Buffer.concat(items));
    files.push(file);
  }
  return files;
}
