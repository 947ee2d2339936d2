// `modtrace capture`: attach, stream records through the decoder to every
// output, stop cleanly on a signal, --duration or --count.
import { readFileSync } from "node:fs";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder } from "../decoder/host";
import * as layout from "../decoder/assembly/generated/layout";
import { bpfPrivileges } from "../loader/capabilities";
import { native } from "../loader/native";
import { Session, SessionError } from "../loader/session";
import type { EventInfo, ReadAtRequest } from "../loader/events";
import type { AttachRequest } from "../loader/attach-plan";
import { CborLog, type Rotation } from "./log/cbor-log";
import { headerItem, trailerItem, type HeaderFields } from "./log-items";
import { OutputError, Sink, type OutputSpec } from "./outputs";

type DecodedFormat = "text" | "json" | "cbor";

export interface CaptureOptions {
  outputs: OutputSpec[];
  events: EventInfo[];
  pids: number[];
  uids: number[];
  comms: string[];
  durationSec?: number;
  count?: number;
  ringBytes: number;
  rotation: Rotation;
  attach: AttachRequest;
  readAt: ReadAtRequest;
  argv: string[];
}

// Some thousands of records per drain (they are about 250 bytes): big enough
// to amortise the FFI call and the write, small enough to keep latency low.
const BATCH_BYTES = 256 << 10;
const POLL_MS = 100;

export class CaptureError extends Error {}

function say(line: string) {
  process.stderr.write(`modtrace: ${line}\n`);
}

export async function capture(opts: CaptureOptions): Promise<number> {
  const privileges = bpfPrivileges();
  if (!privileges.ok)
    throw new CaptureError(
      `capturing needs ${privileges.missing.join(" and ")} (or CAP_SYS_ADMIN) to load BPF programs; run it as root, e.g. sudo modtrace`,
    );

  const decoder = await Decoder.load(readFileSync(wasmPath));
  const bootTimeNs = BigInt(native().mt_clock_offset_ns());
  decoder.setClockOffset(bootTimeNs);
  const sinks = opts.outputs.filter((spec) => spec.format !== "cbor" || !spec.path).map((spec) => Sink.open(spec));

  let session: Session;
  try {
    session = Session.open(opts);
  } catch (e) {
    sinks.forEach((s) => s.close());
    if (e instanceof SessionError) throw new CaptureError(`could not start capturing: ${e.message}`);
    throw e;
  }

  const { events: attached, unavailable } = session.attached;
  const eventNames = attached.map((a) => a.event.name);
  const header: HeaderFields = {
    startNs: BigInt(Date.now()) * 1_000_000n,
    bootTimeNs,
    events: eventNames,
    hooks: Object.fromEntries(attached.map((a) => [a.event.name, a.hook])),
    unavailable: Object.fromEntries(unavailable.map((u) => [u.event.name, u.why])),
    filters: { pids: opts.pids, uids: opts.uids, comms: opts.comms },
    argv: opts.argv,
  };
  let logs: CborLog[] = [];
  try {
    logs = opts.outputs.filter((spec) => spec.format === "cbor" && spec.path).map((spec) => new CborLog(spec.path!, header, opts.rotation));
  } catch (e) {
    session.close();
    sinks.forEach((s) => s.close());
    throw e;
  }
  for (const sink of sinks) {
    if (sink.spec.format === "cbor") sink.write(headerItem(header, 1));
    if (sink.spec.format === "text") sink.write(decoder.textHeader());
  }
  for (const u of unavailable) say(`${u.event.name} unavailable: ${u.why}`);
  const byHook = new Map<string, string[]>();
  for (const a of attached) byHook.set(a.hook, [...(byHook.get(a.hook) ?? []), a.event.name]);
  say(`capturing ${[...byHook].map(([hook, names]) => `${names.join(", ")} (${hook})`).join("; ")}; Ctrl-C to stop`);

  let stopping = false;
  const stop = () => (stopping = true);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const timer = opts.durationSec !== undefined ? setTimeout(stop, opts.durationSec * 1000) : undefined;

  const rawSinks = sinks.filter((s) => s.spec.format === "raw");
  const rowSinks = sinks.filter((s) => s.spec.format === "rows");
  const decodedSinks = sinks.filter((s) => s.spec.format !== "raw" && s.spec.format !== "rows");
  // Loaded only for -o rows: a plain capture's start-up and memory need none of it.
  const liveRows = rowSinks.length ? new (await import("./rows/capture-rows")).LiveRows(headerItem(header, 1)) : undefined;
  let written = 0;
  let failure: Error | undefined;
  const limit = opts.count ?? Infinity;

  const pump = (timeoutMs: number): number => {
    const got = session.drain(decoder.inputView(BATCH_BYTES), timeoutMs);
    if (got === 0 || written >= limit) return got;
    const { bytes: len, records } = decoder.span(got, Math.min(limit - written, 0xffffffff));
    decoder.tally(len);
    // Raw records first: decoding may grow the WebAssembly memory and detach views of it.
    for (const sink of rawSinks) sink.write(decoder.inputView(BATCH_BYTES).subarray(0, len));
    for (const sink of decodedSinks) sink.write(decoder.decode(len, sink.spec.format as DecodedFormat));
    if (logs.length) {
      const bytes = decoder.decode(len, "cbor");
      const ends = decoder.itemEnds(records);
      for (const log of logs) log.writeEvents(bytes, ends);
    }
    if (liveRows) {
      const lines = liveRows.lines(decoder.decode(len, "cbor"));
      for (const sink of rowSinks) sink.write(lines);
    }
    written += records;
    if (written >= limit) stopping = true;
    return got;
  };

  try {
    while (!stopping) {
      pump(POLL_MS);
      await new Promise((resolve) => setImmediate(resolve));
    }
    session.detach();
    while (written < limit && pump(0) > 0);
  } catch (e) {
    failure = e as Error;
  }
  if (timer) clearTimeout(timer);

  const losses = session.losses();
  session.close();
  const counts = Object.fromEntries(attached.map((a) => [a.event.name, decoder.count(a.event.id)]));
  const lost = losses.lostRingbuf + losses.lostPriority + losses.lostInflight;
  const totals = { endNs: BigInt(Date.now()) * 1_000_000n, counts, written, ...losses };
  for (const sink of sinks) {
    try {
      if (sink.spec.format === "cbor" && !failure) sink.write(trailerItem({ ...totals, eventsInFile: written }));
      sink.close();
    } catch (e) {
      failure ??= e as Error;
    }
  }
  for (const log of logs) {
    try {
      if (failure) log.abandon();
      else log.finish(totals);
    } catch (e) {
      failure ??= e as Error;
    }
  }
  const perEvent = Object.entries(counts).map(([name, n]) => `${name} ${n}`).join(", ");
  say(`${written} events written (${perEvent}); ${lost} lost (failed-attempts ring full: ${losses.lostRingbuf}, priority ring full: ${losses.lostPriority}, no in-flight slot: ${losses.lostInflight}); ${losses.filtered} filtered out`);
  if (failure) {
    if (failure instanceof OutputError) throw new CaptureError(`${failure.message}; capture stopped, what was written before is intact`);
    throw failure;
  }
  return 0;
}
