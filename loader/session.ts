// A capture session: the BPF object loaded, configured, attached, and drained.
import { ptr, type Pointer } from "bun:ffi";
import { readFileSync } from "node:fs";
import objectPath from "../build/modtrace.bpf.o" with { type: "file" };
import * as layout from "../decoder/assembly/generated/layout";
import { native } from "./native";
import type { EventInfo } from "../catalogue/events";
import { IMAGE_PROGRAMS, programsFor, type Mode } from "../catalogue/programs";
import { hookLabel, imageHookLabel, readAtFor, type ReadAtRequest } from "./hooks";
import { PROGRAM_NAMES } from "./generated/programs";
import { programId, UnknownProgramError } from "./program-ids";
import { planAttach, type AttachRequest, type ImagePlan, type Planned, type Unavailable } from "./attach-plan";

export interface SessionOptions {
  events: EventInfo[];
  attach: AttachRequest;
  readAt: ReadAtRequest;
  pids: number[];
  uids: number[];
  comms: string[];
  ringBytes: number;
  /** Size of the image ring (module images in chunks). */
  imageRingBytes: number;
  /** Stream module images for hashing (off: --no-hash). */
  hashing: boolean;
  /** Ancestors each event records (--ancestors), at most layout.ANCESTORS. */
  ancestors?: number;
}

export interface AttachedEvent {
  event: EventInfo;
  hook: string; // e.g. "fentry/fexit", "tracepoint module:module_load"
}

export interface Attached {
  events: AttachedEvent[];
  unavailable: Unavailable[];
  /** The hook that streams module images, or why there is none. */
  images: { hook: string } | { why: string };
}

export interface LossCounters {
  lostRingbuf: number; // the bulk ring (failed attempts) was full
  lostPriority: number; // the priority ring was full
  lostInflight: number;
  filtered: number;
}

const ERR_LEN = 8192;
// The image ring when nothing will stream images: the smallest the kernel takes (a page).
const UNUSED_RING_BYTES = 4096;

function errorText(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString("utf8").trim();
}

export class SessionError extends Error {}

export class Session {
  private constructor(private handle: Pointer, readonly attached: Attached) {}

  static open(opts: SessionOptions): Session {
    const lib = native();
    const plan = planAttach(opts.events, opts.attach, opts.hashing);
    if (!plan.planned.length)
      throw new SessionError(`none of the events can be attached on this kernel: ${plan.unavailable.map((u) => `${u.event.name} (${u.why})`).join(", ")}`);
    const programs = (event: EventInfo, mode: Mode) => programsFor(event, mode, readAtFor(mode, opts.readAt));
    const wanted = new Set(plan.planned.flatMap((p) => programs(p.event, p.mode)));
    if ("mode" in plan.images) IMAGE_PROGRAMS[plan.images.mode].forEach((p) => wanted.add(p));
    try {
      wanted.forEach(programId);
    } catch (e) {
      if (e instanceof UnknownProgramError) throw new SessionError(e.message);
      throw e;
    }
    const object = readFileSync(objectPath);
    const err = Buffer.alloc(ERR_LEN);
    // The shim refuses an object whose programs and maps are not its table's.
    const handle = lib.mt_open(object, object.length, opts.ringBytes, "mode" in plan.images ? opts.imageRingBytes : UNUSED_RING_BYTES, err, ERR_LEN);
    if (!handle) throw new SessionError(errorText(err));
    PROGRAM_NAMES.forEach((program, id) => {
      if (lib.mt_set_autoload(handle, id, wanted.has(program) ? 1 : 0) < 0) {
        lib.mt_close(handle);
        throw new SessionError(`the shim could not set program ${program}'s autoload: this modtrace was built from sources that disagree`);
      }
    });
    const attached: Attached = { events: [], unavailable: [...plan.unavailable], images: { why: "" } };
    const session = new Session(handle, attached);
    try {
      if (lib.mt_load(handle, err, ERR_LEN) < 0) throw new SessionError(errorText(err));
      session.attach(plan.planned, opts, err);
      session.attachImages(plan.images, err);
      session.configure(opts);
    } catch (e) {
      session.close();
      throw e;
    }
    if (!attached.events.length)
      throw new SessionError(`no event could be attached: ${attached.unavailable.map((u) => `${u.event.name} (${u.why})`).join(", ")}`);
    return session;
  }

  /** Attaches each planned event; one that fails is reported, the rest go on.
   * Nothing is sent before configure() names the attached events. */
  private attach(planned: Planned[], opts: SessionOptions, err: Buffer) {
    const lib = native();
    const done = new Map<string, string | undefined>(); // program -> error, for programs shared by events
    for (const p of planned) {
      let failure: string | undefined;
      const readAt = readAtFor(p.mode, opts.readAt);
      for (const program of programsFor(p.event, p.mode, readAt)) {
        if (!done.has(program)) done.set(program, lib.mt_attach(this.handle, programId(program), err, ERR_LEN) < 0 ? errorText(err) : undefined);
        failure ??= done.get(program);
      }
      if (failure) this.attached.unavailable.push({ event: p.event, why: `attaching ${p.mode} failed: ${failure}` });
      else this.attached.events.push({ event: p.event, hook: hookLabel(p.event, p.mode, readAt) });
    }
  }

  /** The image hooks, all or none: an image seen by one hook but not the
   * other would look like a load the kernel read no image for. */
  private attachImages(plan: ImagePlan, err: Buffer) {
    if (!("mode" in plan)) {
      this.attached.images = plan;
      return;
    }
    for (const program of IMAGE_PROGRAMS[plan.mode])
      if (native().mt_attach(this.handle, programId(program), err, ERR_LEN) < 0) {
        this.attached.images = { why: `attaching ${plan.mode} failed: ${errorText(err)}` };
        return;
      }
    this.attached.images = { hook: imageHookLabel(plan.mode) };
  }

  private configure(opts: SessionOptions) {
    const lib = native();
    let filters = 0;
    const add = (filter: number, key: Uint8Array, what: string) => {
      const rc = lib.mt_filter_add(this.handle, filter, key);
      if (rc < 0) throw new SessionError(`adding ${what} to the kernel filter failed (errno ${-rc})`);
      filters |= filter;
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
    const rc = lib.mt_configure(this.handle, mask, filters, options, opts.ancestors ?? layout.ANCESTORS);
    if (rc < 0) throw new SessionError(`writing the kernel-side configuration failed (errno ${-rc})`);
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

  losses(): LossCounters {
    const c = (which: number) => Number(native().mt_counter(this.handle, which));
    return {
      lostRingbuf: c(layout.COUNTER_LOST_RINGBUF),
      lostPriority: c(layout.COUNTER_LOST_PRIORITY),
      lostInflight: c(layout.COUNTER_LOST_INFLIGHT),
      filtered: c(layout.COUNTER_FILTERED),
    };
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

