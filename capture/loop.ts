// The capture's loop: drain the rings, settle images, decode, write, judge,
// until a signal, --duration or --count; then read the rings to the end.
import type { Decoder } from "../decoder/host";
import type { Session } from "../loader/session";
import * as layout from "../record/layout";
import type { CaptureOutputs } from "./outputs";
import type { ImageAssembler } from "../images/assembler";
import type { LiveFindings } from "../findings/live";
import { StopDetector } from "../findings/monitor-stopped";
import { RingMoveDetector } from "../findings/monitor-rings";
import type { Heartbeat } from "../findings/heartbeat";
import type { CaptureOptions } from "./options";
import { say, status } from "./voice";
import type { ScanEvents } from "./scan-events";
import { writeRecord } from "../record/records";

// Some hundreds of records per drain (they are about 600 bytes): big enough
// to amortise the FFI call and the write, small enough to keep latency low.
const BATCH_BYTES = 256 << 10;
// Drains at most before a kernel scan, to read what was recorded before it.
const SCAN_DRAINS = 64;
// Image chunks per drain of the image ring (32 KiB each).
const IMAGE_BATCH_CHUNKS = 32;
const POLL_MS = 100;

/** Drains the rings into the outputs until a signal, --duration or --count,
 * then once more after detaching. Returns the events captured, and the error
 * that stopped it early, if one did. */
/** The signals a capture answers, listened to before it says "capturing":
 * one sent as soon as that line is seen must find its handler (a SIGCONT
 * with none is simply lost, and a SIGINT with none kills). */
export function listen() {
  const asked = { stop: false };
  // SIGHUP is a closed terminal or ssh session: an end like any other, with
  // the summary and the logs' trailers, not a cut log.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => (asked.stop = true));
  return { asked, stops: new StopDetector() };
}

export async function captureLoop(session: Session, decoder: Decoder, outputs: CaptureOutputs, images: ImageAssembler, findings: LiveFindings | undefined, opts: CaptureOptions, signals: ReturnType<typeof listen>, heartbeat: Heartbeat, scans?: ScanEvents) {
  let stopping = false;
  // A deadline the loop checks, not a timer: setTimeout takes at most 2^31 ms
  // (some 24 days) and fires at once above that, and a monitor that quietly
  // stops early is worse than none. performance.now() ignores clock steps.
  const deadline = opts.durationSec !== undefined ? performance.now() + opts.durationSec * 1000 : Infinity;
  const limit = opts.count ?? Infinity;
  let captured = 0;
  let failure: Error | undefined;
  const chunks = new Uint8Array(IMAGE_BATCH_CHUNKS * layout.CHUNK_SIZE);
  const rowsToTerminal = Boolean(process.stdout.isTTY) && opts.outputs.some((o) => !o.path && o.format !== "cbor" && o.format !== "raw");

  const pump = (timeoutMs: number): number => {
    const got = session.drain(decoder.inputView(BATCH_BYTES), timeoutMs);
    // modtrace's own heartbeat records go first, before any output sees them.
    const kept = heartbeat.strip(decoder.inputView(got), got);
    // After the records: a load's chunks went into the image ring before its
    // records were written, so every image this batch needs is there now.
    for (let n; (n = session.drainImages(chunks)) > 0; ) {
      outputs.writeRaw(chunks.subarray(0, n));
      images.addChunks(chunks, n);
    }
    handle(kept);
    return got;
  };

  // What the scans found come and go: records built here, handled as the kernel's are.
  const scanned = () => {
    if (!scans) return;
    const events = scans.scan();
    for (const f of scans.failed.splice(0)) say(`warning: ${f.event}: a scan could not read the kernel's list (the next one tries again): ${f.why}`);
    if (!events.length) return;
    const view = decoder.inputView(events.length * layout.RECORD_MAX);
    const data = new DataView(view.buffer, view.byteOffset, view.byteLength);
    let len = 0;
    for (const e of events) len += writeRecord(e, data, view, len);
    handle(len);
  };

  /** The first len bytes of the decoder's input, records to decode, write and judge. */
  function handle(kept: number) {
    if (kept === 0 || captured >= limit) return;
    // Rows to the same terminal as the status line: it goes first.
    if (rowsToTerminal) status?.clear();
    const { bytes: len, records } = decoder.span(kept, Math.min(limit - captured, 0xffffffff));
    // Raw records as the kernel sent them, before their images are settled here.
    outputs.writeRaw(decoder.inputView(len), records);
    images.settle(decoder.inputView(len), decoder.spanImageRecords());
    decoder.tally(len);
    // Counted with the kinds (tally): what the outputs got is theirs to count.
    captured += records;
    if (!opts.findings?.only) outputs.write(decoder, len, records);
    if (findings) outputs.writeFindings(findings.batch(decoder, len));
    if (captured >= limit) stopping = true;
  }

  const { asked, stops } = signals;
  const figures = () => {
    const l = session.losses();
    return { captured, lost: l.lostRingbuf + l.lostPriority + l.lostInflight, filtered: l.filtered + decoder.filtered(), findings: findings?.engine.total ?? 0 };
  };
  let tamperings = 0;
  const moves = new RingMoveDetector(() => session.ringsMoved());
  const unreadSaid = new Set<string>();
  const tampered = (finding: ReturnType<typeof stops.tick>) => {
    if (!finding) return;
    tamperings++;
    say(`warning: ${finding.description}`);
    // Written even with --no-findings: a log must say it was blind.
    outputs.writeFindings(findings ? findings.engine.monitor(finding) : [finding]);
  };
  try {
    while (!stopping && !asked.stop) {
      pump(Math.max(0, Math.min(POLL_MS, Math.ceil(deadline - performance.now()))));
      if (performance.now() >= deadline) stopping = true;
      for (const finding of [stops.tick(), ...moves.tick(), heartbeat.tick(() => session.losses())]) tampered(finding);
      const findingsScan = findings?.scanDue() ?? false;
      const scanDue = findingsScan || Boolean(scans?.due());
      // The watches read the kernel, then what it recorded before that
      // reading is read from the rings (bounded: a flood must not hold the
      // loop here), then the findings judge the reading.
      if (findingsScan) findings!.readKernel();
      if (scanDue) for (let i = 0; i < SCAN_DRAINS && pump(0) > 0 && !stopping; i++);
      // The hooks that came and went before the findings judge them.
      if (scanDue) scanned();
      if (findings) {
        const polled = findings.poll(findingsScan);
        if (polled.length && rowsToTerminal) status?.clear();
        outputs.writeFindings(polled);
      }
      outputs.sealIfDue(() => {
        const l = session.losses();
        for (const u of l.unread) if (!unreadSaid.has(u)) unreadSaid.add(u) && say(`warning: reading the kernel's counter ${u} failed: the log's health keeps its last value read`);
        const filtered = l.filtered + decoder.filtered();
        const misses = session.programMisses();
        return {
          lost: l.lostRingbuf + l.lostPriority + l.lostInflight, lostRingBuffer: l.lostRingbuf, lostPriority: l.lostPriority, lostInflight: l.lostInflight, filtered, tampered: tamperings,
          callsUntracked: l.callsUntracked,
          ...(misses !== undefined && { hookMisses: misses }),
          ...(heartbeat.beating && { heartbeatRounds: heartbeat.judged, heartbeatAnswered: heartbeat.answered, heartbeatSilent: heartbeat.silentEvents.length }),
        };
      });
      status?.tick(figures);
      await new Promise((resolve) => setImmediate(resolve));
    }
    status?.clear();
    // The last look at the hooks, while modtrace's own are still in place.
    for (let i = 0; i < SCAN_DRAINS && pump(0) > 0; i++);
    scanned();
    session.detach();
    // Everything left is read, past --count too (pump drops what is over
    // it): the heartbeat's last round must find its records.
    while (pump(0) > 0);
    tampered(heartbeat.finish(() => session.losses()));
    if (findings) outputs.writeFindings(findings.end());
  } catch (e) {
    failure = e as Error;
  }
  return { captured, failure };
}
