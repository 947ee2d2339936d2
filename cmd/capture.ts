// `modtrace capture`: attach, stream records through the decoder to every
// output, stop cleanly on a signal, --duration or --count.
import { readFileSync } from "node:fs";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder } from "../decoder/host";
import { bpfPrivileges } from "../loader/capabilities";
import { native } from "../loader/native";
import { CaptureClock } from "../loader/capture-clock";
import { Session, SessionError, type AttachedEvent } from "../loader/session";
import type { HeaderFields } from "../log/log-items";
import { CaptureOutputs } from "../capture/outputs";
import { OutputError } from "../output/outputs";
import { ImageAssembler } from "../images/assembler";
import { ImageStore, ImageStoreError } from "../images/store";
import { LiveFindings } from "../findings/live";
import { sayFindings } from "../findings/summary";
import { Heartbeat } from "../findings/heartbeat";
import { SealKey } from "../log/seal";
import { CaptureStatus } from "../output/capture-status";
import { loadedModules } from "../findings/watches/loaded-modules";
import { KeyFileError, writeKeyFile } from "../output/key-file";
import type { CaptureOptions } from "../capture/options";
import { captureLoop, listen } from "../capture/loop";
import { say, setQuiet, setStatus } from "../capture/voice";
import { ScanEvents } from "../capture/scan-events";
import { findingsConfig } from "../findings/config";
import type { EventInfo } from "../catalogue/events";
import type { Unavailable } from "../loader/attach-plan";

export type { CaptureOptions };

export class CaptureError extends Error {}

/** The attached events' names grouped by a key, in order of first appearance. */
function namesBy(attached: AttachedEvent[], key: (a: AttachedEvent) => string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const a of attached) groups.set(key(a), [...(groups.get(key(a)) ?? []), a.event.name]);
  return groups;
}

/** The scan events' lists, read for the first time, and every event as
 * attached (scan events by "scan") or unavailable. A capture that selects
 * processes (--pid, --uid, --comm, --container) leaves them out: they are
 * no process's doing. */
function startScans(events: EventInfo[], attached: AttachedEvent[], unavailable: Unavailable[], opts: CaptureOptions, clock: CaptureClock): { scans?: ScanEvents; attached: AttachedEvent[]; unavailable: Unavailable[] } {
  if (!events.length) return { scans: undefined, attached, unavailable };
  const selecting = [opts.pids.length && "--pid", opts.uids.length && "--uid", opts.comms.length && "--comm", opts.container && (opts.container.inside ? "--container" : "--not-container")].filter(Boolean);
  if (selecting.length)
    return { scans: undefined, attached, unavailable: [...unavailable, ...events.map((event) => ({ event, why: `left out: a scan event is no process's doing, and ${selecting.join(" and ")} ${selecting.length === 1 ? "selects" : "select"} processes` }))] };
  const scans = new ScanEvents(events, clock, opts.scanIntervalSec, (opts.findings?.config ?? findingsConfig()).hookedFunctions);
  return { scans, attached: [...attached, ...scans.events.map((event) => ({ event, hook: `scan every ${opts.scanIntervalSec} s` }))], unavailable: [...unavailable, ...scans.unavailable] };
}

export async function capture(opts: CaptureOptions): Promise<number> {
  setQuiet(opts.quiet === true);
  const privileges = bpfPrivileges();
  if (!privileges.ok)
    throw new CaptureError(
      `capturing needs ${privileges.missing.join(" and ")} (or CAP_SYS_ADMIN) to load BPF programs; run it as root, e.g. sudo modtrace`,
    );

  const decoder = await Decoder.load(readFileSync(wasmPath));
  const bootTimeNs = BigInt(native().mt_clock_offset_ns());
  decoder.setClockOffset(bootTimeNs);
  const clock = new CaptureClock(bootTimeNs);
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
  const findings = opts.findings && new LiveFindings(opts.findings, clock, { completeEvents });
  decoder.setContainerFilter(opts.container);
  const outputs = CaptureOutputs.open(opts.outputs, opts.colour, opts.wide);
  let seal: ReturnType<typeof SealKey.generate> | undefined;
  try {
    seal = outputs.hasLogs ? SealKey.generate(opts.sealIntervalSec) : undefined;
    if (seal && opts.sealKeyFile !== undefined) writeKeyFile(opts.sealKeyFile, seal.k0Hex);
  } catch (e) {
    outputs.close();
    if (e instanceof KeyFileError) throw new CaptureError(e.message);
    throw e;
  }

  // The scan events have no hook: the session attaches the others.
  const hooked = opts.events.filter((e) => e.kind !== "scan");
  const scanned = opts.events.filter((e) => e.kind === "scan");
  let session: Session;
  try {
    session = Session.open({ ...opts, events: hooked });
  } catch (e) {
    outputs.close();
    if (e instanceof SessionError) throw new CaptureError(`could not start capturing: ${e.message}`);
    throw e;
  }

  const { events: kernelAttached, unavailable: kernelUnavailable, images: imageHook } = session.attached;
  // Read once now, with modtrace's own programs attached: the starting point.
  const { scans, attached, unavailable } = startScans(scanned, kernelAttached, kernelUnavailable, opts, clock);
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
    else setStatus(started);
  }
  say(`capturing ${[...byHook].map(([hook, names]) => `${names.join(", ")} (${hook})`).join("; ")}${imageLine}; Ctrl-C to stop`);

  const { captured, failure: loopFailure } = await captureLoop(session, decoder, outputs, images, findings, opts, signals, heartbeat, scans);
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
  if (findings && !opts.quiet) sayFindings(findings.engine.all, findings.engine.total);
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
