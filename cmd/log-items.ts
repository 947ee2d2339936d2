// The header and trailer items that frame a CBOR log (RFC 8742 sequence):
// written once per capture, so cbor-x rather than the decoder.
import { Encoder } from "cbor-x";
import { hostname, release } from "node:os";
import { VERSION } from "./version";

// Plain CBOR maps with text keys: readable by any conforming decoder.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

export const LOG_FORMAT = "modtrace-log";
export const LOG_FORMAT_VERSION = 1;

export function headerItem(startNs: bigint, events: string[], hook: string, argv: string[]): Uint8Array {
  return cbor.encode({
    format: LOG_FORMAT,
    formatVersion: LOG_FORMAT_VERSION,
    modtraceVersion: VERSION,
    host: hostname(),
    kernel: release(),
    start: startNs,
    events,
    hook,
    commandLine: argv,
  });
}

export interface Totals {
  endNs: bigint;
  counts: Record<string, number>;
  written: number;
  lostRingbuf: number;
  lostInflight: number;
  filtered: number;
}

export function trailerItem(t: Totals): Uint8Array {
  return cbor.encode({
    format: LOG_FORMAT,
    trailer: true,
    end: t.endNs,
    counts: t.counts,
    events: t.written,
    lost: t.lostRingbuf + t.lostInflight,
    lostRingBuffer: t.lostRingbuf,
    lostInflight: t.lostInflight,
    filtered: t.filtered,
  });
}
