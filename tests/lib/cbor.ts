// Reading CBOR sequences in tests, with cbor-x (the decoder modtrace's own
// read side uses) and with Python's cbor2, a decoder that is not ours and is
// strict about UTF-8 in text strings.
import { decodeMultiple } from "cbor-x/decode";

// cbor-x gives BigInt for every 8-byte integer; the expectations are Numbers.
export function plain(v: any): any {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object" && !(v instanceof Uint8Array))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export function cborItems(bytes: Uint8Array): any[] {
  const items: any[] = [];
  decodeMultiple(bytes, (item: any) => {
    items.push(plain(item));
  });
  return items;
}

/** A log's items without its seal items (log/seal.ts): one comes every
 * --seal-interval, so how many a log holds depends on how long it ran. A
 * trailer carries a seal too, and stays. */
export function withoutSeals(items: any[]): any[] {
  return items.filter((i) => !(i?.seal !== undefined && i.trailer !== true));
}

/** Decodes with cbor2 and returns how many items it read, or throws its error. */
export function strictItemCount(bytes: Uint8Array): number {
  const script = `
import cbor2, io, sys
data = io.BytesIO(sys.stdin.buffer.read())
n = 0
while data.tell() < len(data.getbuffer()):
    cbor2.load(data)
    n += 1
print(n)`;
  // Debian's python3 has python3-cbor2 (build.sh installs it); another python3 may come first on PATH.
  const run = Bun.spawnSync(["/usr/bin/python3", "-c", script], { stdin: bytes, stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`cbor2 rejected the sequence: ${run.stderr}`);
  return Number(run.stdout.toString());
}
