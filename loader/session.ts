// A capture session: the BPF object loaded, configured, attached, and drained.
import { ptr, type Pointer } from "bun:ffi";
import { readFileSync } from "node:fs";
import objectPath from "../build/modtrace.bpf.o" with { type: "file" };
import * as layout from "../record/layout";
import { native, cString, cText } from "./native";
import { hookLabel, imageHookLabel } from "./hooks";
import { PROGRAM_NAMES } from "./generated/programs";
import { programId, UnknownProgramError } from "./program-ids";
import { planAttach, planRefusal } from "./attach-plan";
import { RING_NAMES, type Attached, type LossCounters, type RingMoved, type SessionOptions } from "./session-types";
import { HookChoices } from "./hook-choices";

export * from "./session-types";

const ERR_LEN = 8192;
// The image ring when nothing will stream images: the smallest the kernel takes (a page).
const UNUSED_RING_BYTES = 4096;

/** An error with libbpf's lines after it, as one line: what a fallback or an unavailable event says. */
function oneLine(text: string): string {
  return text.split("\n").map((l) => l.replace(/^libbpf: /, "").trim()).filter(Boolean).join("; ");
}

export class SessionError extends Error {}

/** This process as the kernel's bpf_get_current_pid_tgid() names it (the
 * initial pid namespace's tgid): the first NSpid of /proc/self/status, which
 * is that one where /proc is the host's. 0 when it cannot be told, and then
 * the heartbeat's calls get no special path (findings/heartbeat.ts says so). */
export function hostTgid(): number {
  try {
    const nspid = /^NSpid:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"));
    return nspid ? Number(nspid[1]) : process.pid;
  } catch {
    return 0;
  }
}

/** The kernel-side filters a capture turns on: set before load (bpf/config.h),
 * so that the verifier drops the code of those it does not. */
function filterBits(opts: SessionOptions): number {
  return (opts.pids.length ? layout.FILTER_PID : 0) | (opts.uids.length ? layout.FILTER_UID : 0) | (opts.comms.length ? layout.FILTER_COMM : 0);
}

/** Test hook (tests/host): MODTRACE_TEST_REJECT_PROGRAMS=prog[,prog] makes the
 * kernel refuse those programs of bpf/modtrace.bpf.c at load, as it would
 * programs its verifier rejects, to show that capture keeps the others and
 * falls back for the events that needed them. */
function rejectedForTest(): string[] {
  return (process.env.MODTRACE_TEST_REJECT_PROGRAMS ?? "").split(",").filter(Boolean);
}

export class Session {
  private constructor(private handle: Pointer, readonly attached: Attached) {}

  /** Loads and attaches what the plan chose; where a mode fails to load or
   * attach, falls back to the event's next mode and loads again (libbpf
   * loads an object once), keeping every other program. */
  static open(opts: SessionOptions): Session {
    const plan = planAttach(opts.events, opts.attach, opts.hashing);
    const refusal = planRefusal(plan, opts.attach);
    if (refusal) throw new SessionError(refusal);
    const choices = new HookChoices(plan, opts.readAt);
    // Each pass either works or moves an event or the image hooks off a mode, so this ends.
    for (;;) {
      const session = Session.load(choices, opts);
      if (!session) continue;
      let retry: boolean;
      try {
        retry = session.attach(choices) || session.attachImages(choices);
        if (!retry) session.configure(opts);
      } catch (e) {
        session.close();
        throw e;
      }
      if (retry) {
        session.close();
        continue;
      }
      if (!session.attached.events.length) {
        session.close();
        throw new SessionError(`no event could be attached: ${session.attached.unavailable.map((u) => `${u.event.name} (${u.why})`).join(", ")}`);
      }
      return session;
    }
  }

  /** Opens the object and loads the programs the choices want. Undefined when
   * one program failed to load and the choices moved off it: load again. */
  private static load(choices: HookChoices, opts: SessionOptions): Session | undefined {
    const lib = native();
    const object = readFileSync(objectPath);
    const err = Buffer.alloc(ERR_LEN);
    const images = choices.currentImages();
    const handle = lib.mt_open(object, object.length, opts.ringBytes, "mode" in images ? opts.imageRingBytes : UNUSED_RING_BYTES, err, ERR_LEN);
    if (!handle) throw new SessionError(cText(err));
    const wanted = choices.wantedPrograms();
    try {
      wanted.forEach(programId);
    } catch (e) {
      lib.mt_close(handle);
      if (e instanceof UnknownProgramError) throw new SessionError(e.message);
      throw e;
    }
    if (!wanted.size) {
      lib.mt_close(handle);
      throw new SessionError(`no event could be attached: ${choices.unavailable.map((u) => `${u.event.name} (${u.why})`).join(", ")}`);
    }
    for (const [id, program] of PROGRAM_NAMES.entries())
      if (lib.mt_set_autoload(handle, id, wanted.has(program) ? 1 : 0) < 0) {
        // The catalogue and bpf/modtrace.bpf.c disagree: a build mistake, never the kernel's.
        lib.mt_close(handle);
        throw new SessionError(`the shim could not set program ${program}'s autoload: this modtrace was built from sources that disagree`);
      }
    for (const program of rejectedForTest()) if (wanted.has(program)) lib.mt_test_reject(handle, cString(program));
    // On every pass: the object is opened afresh each time.
    if (lib.mt_set_config(handle, filterBits(opts), opts.ancestors ?? layout.ANCESTORS, hostTgid()) < 0) {
      lib.mt_close(handle);
      throw new SessionError("the shim could not set the kernel-side configuration: this modtrace was built from sources that disagree");
    }
    if (lib.mt_load(handle, err, ERR_LEN) < 0) {
      const program = Buffer.alloc(128);
      const reason = Buffer.alloc(512);
      lib.mt_load_failure(program, program.length, reason, reason.length);
      lib.mt_close(handle);
      if (!choices.loadFailed(cText(program), cText(reason) || cText(err).split("\n")[0])) throw new SessionError(cText(err));
      return undefined;
    }
    return new Session(handle, { events: [], unavailable: choices.unavailable, images: { why: "" } });
  }

  /** Attaches each event's current mode; one that fails is reported, the rest
   * go on. True when a failed event has a mode left to try: load again.
   * Nothing is sent before configure() names the attached events. */
  private attach(choices: HookChoices): boolean {
    const lib = native();
    const err = Buffer.alloc(ERR_LEN);
    const done = new Map<string, string | undefined>(); // program -> error, for programs shared by events
    let retry = false;
    for (const c of choices.current()) {
      let failure: string | undefined;
      for (const program of c.programs) {
        if (!done.has(program)) done.set(program, lib.mt_attach(this.handle, programId(program), err, ERR_LEN) < 0 ? cText(err) : undefined);
        failure ??= done.get(program);
      }
      if (failure) retry = choices.attachFailed(c.event, c.mode, `attaching failed: ${oneLine(failure)}`) || retry;
      else this.attached.events.push({ event: c.event, hook: hookLabel(c.event, c.mode, c.readAt), ...(c.failures.length ? { fellBack: c.failures.join("; ") } : {}) });
    }
    return retry;
  }

  /** The image hooks, all or none: an image seen by one hook but not the
   * other would look like a load the kernel read no image for. True when
   * they failed and another mode is left to try: load again. */
  private attachImages(choices: HookChoices): boolean {
    const images = choices.currentImages();
    if (!("mode" in images)) {
      this.attached.images = images;
      return false;
    }
    const err = Buffer.alloc(ERR_LEN);
    for (const program of images.programs)
      if (native().mt_attach(this.handle, programId(program), err, ERR_LEN) < 0) {
        if (choices.imagesFailed(`attaching failed: ${oneLine(cText(err))}`)) return true;
        this.attached.images = choices.currentImages() as { why: string };
        return false;
      }
    this.attached.images = { hook: imageHookLabel(images.mode), ...(images.failures.length ? { fellBack: images.failures.join("; ") } : {}) };
    return false;
  }

  /** Fills the filter sets (which filters are on was fixed at load, see
   * filterBits()), then names the attached events, which starts the capture. */
  private configure(opts: SessionOptions) {
    const lib = native();
    const add = (filter: number, key: Uint8Array, what: string) => {
      const rc = lib.mt_filter_add(this.handle, filter, key);
      if (rc < 0) throw new SessionError(`adding ${what} to the kernel filter failed (errno ${-rc})`);
    };
    for (const pid of opts.pids) add(layout.FILTER_PID, new Uint32Array([pid]) as any, `--pid ${pid}`);
    for (const uid of opts.uids) add(layout.FILTER_UID, new Uint32Array([uid]) as any, `--uid ${uid}`);
    for (const comm of opts.comms) {
      const key = new Uint8Array(layout.COMM_LEN);
      key.set(Buffer.from(comm).subarray(0, layout.COMM_LEN - 1));
      add(layout.FILTER_COMM, key, `--comm ${comm}`);
    }
    // The attached events only: a kernel event ties itself to a syscall in
    // the mask, whose exit hook must then be there to end the call.
    const mask = this.attached.events.reduce((m, a) => m | (1 << a.event.id), 0);
    // An image hook attached before a failure stays attached, but streams nothing without this.
    const options = "hook" in this.attached.images ? layout.OPTION_IMAGES : 0;
    const rc = lib.mt_set_attached(this.handle, mask, options);
    if (rc < 0) throw new SessionError(`writing the kernel-side configuration failed (errno ${-rc})`);
    this.attached.frozen = rc === 0;
  }

  /** Copies whole records into view; returns bytes copied (0 on timeout). */
  drain(view: Uint8Array, timeoutMs: number): number {
    const n = native().mt_drain(this.handle, ptr(view), view.byteLength, timeoutMs);
    if (n < 0) throw new SessionError(`reading the ring buffer failed (errno ${-n})`);
    return n;
  }

  /** Copies whole image chunks into view, without waiting; returns bytes copied. */
  drainImages(view: Uint8Array): number {
    const n = native().mt_drain_images(this.handle, ptr(view), view.byteLength);
    if (n < 0) throw new SessionError(`reading the image ring buffer failed (errno ${-n})`);
    return n;
  }

  /** The kernel's loss counters. One that cannot be read keeps its last
   * value read and is named in `unread` (with the errno): never a zero. */
  losses(): LossCounters & { unread: string[] } {
    const out = new BigUint64Array(1);
    const unread: string[] = [];
    const c = (which: number, name: keyof LossCounters) => {
      const rc = native().mt_counter(this.handle, which, ptr(out));
      if (rc === 0) this.lastCounts[name] = Number(out[0]);
      else unread.push(`${name} (errno ${-rc})`);
      return this.lastCounts[name];
    };
    return {
      lostRingbuf: c(layout.COUNTER_LOST_RINGBUF, "lostRingbuf"),
      lostPriority: c(layout.COUNTER_LOST_PRIORITY, "lostPriority"),
      lostInflight: c(layout.COUNTER_LOST_INFLIGHT, "lostInflight"),
      filtered: c(layout.COUNTER_FILTERED, "filtered"),
      callsUntracked: c(layout.COUNTER_CALLS_UNTRACKED, "callsUntracked"),
      unread,
    };
  }
  private lastCounts: LossCounters = { lostRingbuf: 0, lostPriority: 0, lostInflight: 0, filtered: 0, callsUntracked: 0 };

  /** Runs of the capture's programs the kernel skipped (recursion_misses:
   * one was already running on that CPU), or undefined when they could not
   * be read. Events those runs would have sent are missing and counted
   * nowhere else. */
  programMisses(): number | undefined {
    const out = new BigUint64Array(1);
    return native().mt_prog_misses(this.handle, ptr(out)) === 0 ? Number(out[0]) : undefined;
  }

  /** Per ring (in the shim's order), how far and how often another process
   * moved its consumer position (loader/ring.c): records skipped unread. */
  ringsMoved(): RingMoved[] {
    const moves = new Uint32Array(1);
    return RING_NAMES.map((ring, which) => {
      const bytes = Number(native().mt_ring_moved(this.handle, which, ptr(moves)));
      return { ring, bytes, moves: moves[0] };
    });
  }

  /** Stops new events; what the ring holds can still be drained. */
  detach() {
    native().mt_detach(this.handle);
  }

  close() {
    if (this.handle) native().mt_close(this.handle);
    this.handle = 0 as Pointer;
  }
}

