// `modtrace capture`: attach, stream records through the decoder to every
// output, stop cleanly on a signal, --duration or --count.
import { closeSync, fsyncSync, readFileSync, writeSync } from "node:fs";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder } from "../decoder/host";
import { bpfPrivileges } from "../loader/capabilities";
import { native } from "../loader/native";
import * as layout from "../decoder/assembly/generated/layout";
import { Session, SessionError, type AttachedEvent } from "../loader/session";
import type { EventInfo } from "../catalogue/events";
import type { ReadAtRequest } from "../loader/hooks";
import type { AttachRequest } from "../loader/attach-plan";
import type { Rotation } from "./log/cbor-log";
import type { HeaderFields } from "./log-items";
import type { ContainerFilter } from "./log/filter";
import { CaptureOutputs } from "./capture-outputs";
import { OutputError, type ColourChoice, type OutputSpec } from "./outputs";
import { ImageAssembler } from "./images/assembler";
import { ImageStore, ImageStoreError } from "./images/store";
import { LiveFindings, type FindingsOptions } from "./findings/live";
import { sayFindings } from "./findings/summary";
import { StopDetector } from "./findings/monitor-stopped";
import { RingMoveDetector } from "./findings/monitor-rings";
import { Heartbeat } from "./heartbeat";
import { SealKey } from "./log/seal";
import { openOutputFile, OutputFileError } from "./output-file";
import { fsReason } from "./outputs";
import { CaptureStatus } from "./capture-status";
import { loadedModules } from "./findings/watches/loaded-modules";

export interface CaptureOptions {
  outputs: OutputSpec[];
  events: EventInfo[];
  pids: number[];
  uids: number[];
  comms: string[];
  durationSec?: number;
  count?: number;
  ringBytes: number;
  imageRingBytes: number;
  hashing: boolean;
  saveModules?: string;
  saveLimit: number;
  rotation: Rotation;
  attach: AttachRequest;
  readAt: ReadAtRequest;
  argv: string[];
  /** Ancestors each event records (--ancestors). */
  ancestors: number;
  /** --container / --not-container, applied as the decoder reads each batch. */
  container?: ContainerFilter;
  /** --color, for the FINDING lines of text outputs. */
  colour: ColourChoice;
  /** --wide: whole text rows on a terminal too. */
  wide?: boolean;
  /** The findings rules, or undefined for --no-findings. */
  findings?: FindingsOptions;
  /** Seconds between the seals of cbor logs (--seal-interval). */
  sealIntervalSec: number;
  /** Where k0 goes instead of stderr (--seal-key-file). */
  sealKeyFile?: string;
  /** Seconds between heartbeat rounds (--heartbeat), 0 for none. */
  heartbeatSec: number;
  /** --quiet: only warnings and the seal key on stderr. */
  quiet?: boolean;
  /** --status: a live status line on a terminal's stderr. */
  status?: boolean;
}

// Some hundreds of records per drain (they are about 600 bytes): big enough
// to amortise the FFI call and the write, small enough to keep latency low.
const BATCH_BYTES = 256 << 10;
// Drains at most before a kernel scan, to read what was recorded before it.
const SCAN_DRAINS = 64;
// Image chunks per drain of the image ring (32 KiB each).
const IMAGE_BATCH_CHUNKS = 32;
const POLL_MS = 100;

export class CaptureError extends Error {}

// --quiet: stderr keeps only what must be seen there: warnings (a capture
// tampered with, data lost or unprotected) and the seal key, which nothing
// else gives. Errors are thrown, and main prints them.
let quiet = false;
// --status: erased before any other line reaches the terminal.
let status: CaptureStatus | undefined;

function say(line: string) {
  if (quiet && !line.startsWith("warning:") && !line.startsWith("seal key ")) return;
  status?.clear();
  process.stderr.write(`modtrace: ${line}\n`);
}

/** Drains the rings into the outputs until a signal, --duration or --count,
 * then once more after detaching. Returns the events captured, and the error
 * that stopped it early, if one did. */
/** The signals a capture answers, listened to before it says "capturing":
 * one sent as soon as that line is seen must find its handler (a SIGCONT
 * with none is simply lost, and a SIGINT with none kills). */
function listen() {
  const asked = { stop: false };
  // SIGHUP is a closed terminal or ssh session: an end like any other, with
  // the summary and the logs' trailers, not a cut log.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => (asked.stop = true));
  return { asked, stops: new StopDetector() };
}

async function captureLoop(session: Session, decoder: Decoder, outputs: CaptureOutputs, images: ImageAssembler, findings: LiveFindings | undefined, opts: CaptureOptions, signals: ReturnType<typeof listen>, heartbeat: Heartbeat) {
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
    if (kept === 0 || captured >= limit) return got;
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
    return got;
  };

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
      if (findings) {
        // What the kernel recorded before the scan looks at it (bounded: a
        // flood must not hold the loop here).
        if (findings.scanDue()) for (let i = 0; i < SCAN_DRAINS && pump(0) > 0 && !stopping; i++);
        const polled = findings.poll();
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

/** The attached events' names grouped by a key, in order of first appearance. */
function namesBy(attached: AttachedEvent[], key: (a: AttachedEvent) => string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const a of attached) groups.set(key(a), [...(groups.get(key(a)) ?? []), a.event.name]);
  return groups;
}

/** k0 for --seal-key-file: a new file (O_EXCL, mode 0600, never through a link), as output files are made. */
function writeKeyFile(path: string, k0Hex: string) {
  let fd: number;
  try {
    fd = openOutputFile(path, { overwrite: false });
  } catch (e: any) {
    const why = e instanceof OutputFileError ? e.message : e.code === "ELOOP" ? "it is a symbolic link, which modtrace will not follow" : fsReason(e);
    throw new CaptureError(`cannot create the seal key file ${path}: ${why}`);
  }
  try {
    writeSync(fd, `${k0Hex}\n`);
    fsyncSync(fd);
  } catch (e) {
    throw new CaptureError(`cannot write the seal key file ${path}: ${fsReason(e)}`);
  } finally {
    closeSync(fd);
  }
}

export async function capture(opts: CaptureOptions): Promise<number> {
  quiet = opts.quiet === true;
  const privileges = bpfPrivileges();
  if (!privileges.ok)
    throw new CaptureError(
      `capturing needs ${privileges.missing.join(" and ")} (or CAP_SYS_ADMIN) to load BPF programs; run it as root, e.g. sudo modtrace`,
    );

  const decoder = await Decoder.load(readFileSync(wasmPath));
  const bootTimeNs = BigInt(native().mt_clock_offset_ns());
  decoder.setClockOffset(bootTimeNs);
  let store: ImageStore | undefined;
  try {
    store = opts.saveModules !== undefined ? ImageStore.open(opts.saveModules, opts.saveLimit, say) : undefined;
  } catch (e) {
    if (e instanceof ImageStoreError) throw new CaptureError(e.message);
    throw e;
  }
  const images = new ImageAssembler(store, opts.hashing);
  const selected = new Set(opts.events.map((e) => e.name));
  const completeEvents = !opts.pids.length && !opts.uids.length && !opts.comms.length && !opts.container && selected.has("module_load") && selected.has("module_free");
  const findings = opts.findings && new LiveFindings(opts.findings, bootTimeNs, { completeEvents });
  decoder.setContainerFilter(opts.container);
  const outputs = CaptureOutputs.open(opts.outputs, opts.colour, opts.wide);
  let seal: ReturnType<typeof SealKey.generate> | undefined;
  try {
    seal = outputs.hasLogs ? SealKey.generate(opts.sealIntervalSec) : undefined;
    if (seal && opts.sealKeyFile !== undefined) writeKeyFile(opts.sealKeyFile, seal.k0Hex);
  } catch (e) {
    outputs.close();
    throw e;
  }

  let session: Session;
  try {
    session = Session.open(opts);
  } catch (e) {
    outputs.close();
    if (e instanceof SessionError) throw new CaptureError(`could not start capturing: ${e.message}`);
    throw e;
  }

  const { events: attached, unavailable, images: imageHook } = session.attached;
  const header: HeaderFields = {
    startNs: BigInt(Date.now()) * 1_000_000n,
    bootTimeNs,
    events: attached.map((a) => a.event.name),
    hooks: Object.fromEntries(attached.map((a) => [a.event.name, a.hook])),
    unavailable: Object.fromEntries(unavailable.map((u) => [u.event.name, u.why])),
    fellBack: Object.fromEntries(attached.filter((a) => a.fellBack).map((a) => [a.event.name, a.fellBack!])),
    imageHook,
    filters: { pids: opts.pids, uids: opts.uids, comms: opts.comms, ...(opts.container && { container: opts.container }) },
    ancestors: opts.ancestors,
    argv: opts.argv,
    modulesAtStart: loadedModules(),
  };
  try {
    await outputs.start(header, opts.rotation, decoder, seal?.key);
  } catch (e) {
    session.close();
    throw e;
  }
  for (const u of unavailable) say(`${u.event.name} unavailable: ${u.why}`);
  if (!session.attached.frozen) say("warning: the kernel-side settings could not be frozen: a root process could stop this capture's events without a trace");
  // Events that moved together (the syscall events) say it once.
  const fellBack = namesBy(attached.filter((a) => a.fellBack), (a) => `${a.hook}: ${a.fellBack}`);
  for (const [line, names] of fellBack) say(`${names.join(", ")} fell back to ${line}`);
  if ("fellBack" in imageHook && imageHook.fellBack) say(`module images fell back to ${imageHook.hook}: ${imageHook.fellBack}`);
  for (const u of findings?.unavailable() ?? []) say(`finding${u.rule.includes(",") ? "s" : ""} ${u.rule} unavailable: ${u.why}`);
  for (const p of findings?.partly() ?? []) say(`finding ${p.rule} in part: ${p.why}`);
  const loadEvents = attached.some((a) => a.event.image);
  if ("why" in imageHook && opts.hashing && (loadEvents || store)) say(`module images will not be hashed${store ? ` nor saved to ${store.dir}` : ""}: ${imageHook.why}`);
  if (seal && opts.sealKeyFile === undefined)
    say(`seal key ${seal.k0Hex}: keep it off this host; \`modtrace verify --key KEY LOGS\` proves the cbor logs unchanged up to their last seal`);
  else if (seal) say(`seal key written to ${opts.sealKeyFile} (fingerprint ${seal.key.id}); \`modtrace verify --key-file ${opts.sealKeyFile} LOGS\` proves the cbor logs unchanged up to their last seal`);
  seal = undefined; // the hex of k0 is not kept
  const byHook = namesBy(attached, (a) => a.hook);
  const imageLine = "hook" in imageHook ? `; module images for sha256 (${imageHook.hook})` : "";
  const heartbeat = new Heartbeat(attached, opts.heartbeatSec * 1000, say);
  say(heartbeat.describe());
  const signals = listen();
  if (opts.status) {
    const started = CaptureStatus.start();
    if (typeof started === "string") say(started);
    else status = started;
  }
  say(`capturing ${[...byHook].map(([hook, names]) => `${names.join(", ")} (${hook})`).join("; ")}${imageLine}; Ctrl-C to stop`);

  const { captured, failure: loopFailure } = await captureLoop(session, decoder, outputs, images, findings, opts, signals, heartbeat);
  const beats = heartbeat.summary();
  if (beats) say(beats);
  const { unread, ...losses } = session.losses();
  const misses = session.programMisses();
  // A count that could not be read is said, not taken for zero.
  if (unread.length) say(`warning: the kernel's counters ${unread.join(", ")} could not be read at the end: the losses below are the last values read, and may be low`);
  session.close();
  images.close();
  const imageCounts = { ...images.counts, ...(store?.counts ?? {}) };
  const counts = Object.fromEntries(attached.map((a) => [a.event.name, decoder.count(a.event.id)]));
  // Dropped by --container/--not-container in the decoder: filtered like --pid's.
  losses.filtered += decoder.filtered();
  const lost = losses.lostRingbuf + losses.lostPriority + losses.lostInflight;
  const findingCounts = findings && Object.fromEntries(findings.engine.counts);
  const failure = outputs.finish({ endNs: BigInt(Date.now()) * 1_000_000n, counts, written: captured, ...losses, images: imageCounts, findings: findingCounts }, loopFailure);
  const perEvent = Object.entries(counts).map(([name, n]) => `${name} ${n}`).join(", ");
  say(`${captured} events captured (${perEvent}); ${lost} lost (failed-attempts ring full: ${losses.lostRingbuf}, priority ring full: ${losses.lostPriority}, no in-flight slot: ${losses.lostInflight}); ${losses.filtered} filtered out`);
  if (losses.callsUntracked > 0) say(`warning: ${losses.callsUntracked} calls could not be tracked (over 4,096 module calls in flight at once): their module_load and do_init_module carry another callId, and their images no hash`);
  // Skipped runs lose events that no loss counter holds: said, never hidden.
  if (misses === undefined) say("warning: the kernel's count of skipped program runs could not be read");
  else if (misses > 0) say(`warning: the kernel skipped ${misses} runs of modtrace's programs (one was already running on that CPU): the events of those runs are missing and counted nowhere else`);
  say(`written: ${outputs.summary()}`);
  if ("hook" in imageHook) {
    const { imagesHashed, imagesRingFull, imagesLost } = images.counts;
    const saved = store ? `; ${store.counts.imagesSaved} saved to ${store.dir} (${store.counts.imagesAlreadySaved} there already, ${store.counts.imagesNotSaved} not saved)` : "";
    say(`module images: ${imagesHashed} hashed, ${imagesRingFull + imagesLost} without a hash (image ring full: ${imagesRingFull}, chunks lost: ${imagesLost})${saved}`);
  }
  if (findings && !quiet) sayFindings(findings.engine.all, findings.engine.total);
  if (failure) {
    if (failure instanceof OutputError) throw new CaptureError(`${failure.message}; capture stopped, what was written before is intact`);
    throw failure;
  }
  const failOn = opts.findings?.failOn;
  if (failOn && findings!.engine.atLeast(failOn) > 0) {
    say(`exit 3: findings at or above ${failOn} (--fail-on)`);
    return 3;
  }
  return 0;
}
