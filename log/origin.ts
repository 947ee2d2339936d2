// Which machine and boot a set of logs came from, read from their headers
// alone: a findings log made of several captures names the judged host only
// when every one of them agrees.
import type { Origin } from "./log-items";
import { readLog } from "./reader";

/** A log's first item; the reader reads no more of the file than holds it. */
function firstItem(file: string) {
  const items = readLog(file, []);
  try {
    return items.next().value;
  } finally {
    items.return(undefined);
  }
}

/** The machine every one of the logs names in its header, when they agree
 * (a capture's rotated set, one host's logs). */
export function sharedOrigin(files: string[]): Origin | undefined {
  let shared: Origin | undefined;
  for (const file of files) {
    const first = firstItem(file);
    if (first?.kind !== "header" || typeof first.value.host !== "string") return undefined;
    const { host, kernel, bootTime } = first.value;
    // Each capture measures its boot's wall-clock time anew: the same boot
    // reads some microseconds apart, another boot seconds or more.
    const sameBoot = (a: bigint | number, b: bigint | number) => { const d = BigInt(a) - BigInt(b); return (d < 0n ? -d : d) < 1_000_000_000n; };
    if (shared && (shared.host !== host || shared.kernel !== kernel || !sameBoot(shared.bootTime, bootTime ?? 0))) return undefined;
    shared ??= { host, kernel: String(kernel ?? ""), bootTime: bootTime ?? 0 };
  }
  return shared;
}
