// `modtrace capture`: attach, stream records through the decoder to every
// output, stop cleanly on a signal, --duration or --count.
import { readFileSync } from "node:fs";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder } from "../decoder/host";
import { bpfPrivileges } from "../loader/capabilities";
import { native } from "../loader/native";
import { Session, SessionError } from "../loader/session";
import type { EventInfo, ReadAtRequest } from "../loader/events";
import type { AttachRequest } from "../loader/attach-plan";
import type { Rotation } from "./log/cbor-log";
import type { HeaderFields } from "./log-items";
import type { ContainerFilter } from "./log/filter";
import { CaptureOutputs } from "./capture-outputs";
import { OutputError, type OutputSpec } from "./outputs";

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
  /** Ancestors each event records (--ancestors). */
  ancestors: number;
  /** --container / --not-container, applied as the decoder reads each batch. */
  container?: ContainerFilter;
}

// Some hundreds of records per drain (they are about 600 bytes): big enough
// to amortise the FFI call and the write, small enough to keep latency low.
const BATCH_BYTES = 256 << 10;
const POLL_MS = 100;

export class CaptureError extends Error {}

function say(line: string) {
  process.stderr.write(`modtrace: ${line}\n`);
}

/** Drains the rings into the outputs until a signal, --duration or --count,
 * then once more after detaching. Returns the events written, and the error
 * that stopped it early, if one did. */
async function captureLoop(session: Session, decoder: Decoder, outputs: CaptureOutputs, opts: CaptureOptions) {
  let stopping = false;
  const stop = () => (stopping = true);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const timer = opts.durationSec !== undefined ? setTimeout(stop, opts.durationSec * 1000) : undefined;
  const limit = opts.count ?? Infinity;
  let written = 0;
  let failure: Error | undefined;

  const pump = (timeoutMs: number): number => {
    const got = session.drain(decoder.inputView(BATCH_BYTES), timeoutMs);
    if (got === 0 || written >= limit) return got;
    const { bytes: len, records } = decoder.span(got, Math.min(limit - written, 0xffffffff));
    decoder.tally(len);
    outputs.write(decoder, len, records);
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
  return { written, failure };
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
  decoder.setContainerFilter(opts.container);
  const outputs = CaptureOutputs.open(opts.outputs);

  let session: Session;
  try {
    session = Session.open(opts);
  } catch (e) {
    outputs.close();
    if (e instanceof SessionError) throw new CaptureError(`could not start capturing: ${e.message}`);
    throw e;
  }

  const { events: attached, unavailable } = session.attached;
  const header: HeaderFields = {
    startNs: BigInt(Date.now()) * 1_000_000n,
    bootTimeNs,
    events: attached.map((a) => a.event.name),
    hooks: Object.fromEntries(attached.map((a) => [a.event.name, a.hook])),
    unavailable: Object.fromEntries(unavailable.map((u) => [u.event.name, u.why])),
    filters: { pids: opts.pids, uids: opts.uids, comms: opts.comms, ...(opts.container && { container: opts.container }) },
    ancestors: opts.ancestors,
    argv: opts.argv,
  };
  try {
    await outputs.start(header, opts.rotation, decoder);
  } catch (e) {
    session.close();
    throw e;
  }
  for (const u of unavailable) say(`${u.event.name} unavailable: ${u.why}`);
  const byHook = new Map<string, string[]>();
  for (const a of attached) byHook.set(a.hook, [...(byHook.get(a.hook) ?? []), a.event.name]);
  say(`capturing ${[...byHook].map(([hook, names]) => `${names.join(", ")} (${hook})`).join("; ")}; Ctrl-C to stop`);

  const { written, failure: loopFailure } = await captureLoop(session, decoder, outputs, opts);
  const losses = session.losses();
  session.close();
  const counts = Object.fromEntries(attached.map((a) => [a.event.name, decoder.count(a.event.id)]));
  // Dropped by --container/--not-container in the decoder: filtered like --pid's.
  losses.filtered += decoder.filtered();
  const lost = losses.lostRingbuf + losses.lostPriority + losses.lostInflight;
  const failure = outputs.finish({ endNs: BigInt(Date.now()) * 1_000_000n, counts, written, ...losses }, loopFailure);
  const perEvent = Object.entries(counts).map(([name, n]) => `${name} ${n}`).join(", ");
  say(`${written} events written (${perEvent}); ${lost} lost (failed-attempts ring full: ${losses.lostRingbuf}, priority ring full: ${losses.lostPriority}, no in-flight slot: ${losses.lostInflight}); ${losses.filtered} filtered out`);
  if (failure) {
    if (failure instanceof OutputError) throw new CaptureError(`${failure.message}; capture stopped, what was written before is intact`);
    throw failure;
  }
  return 0;
}
