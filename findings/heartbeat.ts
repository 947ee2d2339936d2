// The heartbeat: every --heartbeat seconds modtrace makes, from its own
// process, one call of each attached module syscall that the kernel refuses
// at once (loader/heartbeat.c), carrying the round's nonce, and checks that
// each hook reported it. The records reach the ring before the call returns,
// so by the next round each must have arrived: a hook that stayed silent was
// detached, switched off (kprobes disabled in debugfs) or bypassed (a
// syscall dispatched around the function it hooks), and that is
// monitor_tampered (critical). The heartbeat's own records are taken out of
// every batch before anything else sees them: no output, count or rule
// gets them. They are told apart by the kernel's own facts of the caller
// (this process's pid in its own pid namespace), which no other process has.
// Another capture's heartbeat calls (two responders on one host, each
// capture sees the other's) are left out too, and counted: calls that
// failed, made with CAP_SYS_MODULE over the host by an executable at this
// one's own path, carrying a heartbeat nonce. Root could dress failed calls
// of its own that way; a call that failed changed nothing, and no
// successful call, nor any kernel-side event, is ever left out.
//
// What it cannot see: kexec_load's hook (never called: under lockdown each
// refusal would be logged), the 32-bit entry's hooks (a kernel without it
// would kill the caller), the kernel-side events (module_load and the rest
// need a real load), and a blinding that spares modtrace's own process.
import { readlinkSync } from "node:fs";
import { EVENTS } from "../catalogue/events";
import * as layout from "../record/layout";
import { cString, native } from "../loader/native";
import type { AttachedEvent } from "../loader/session";
import type { Finding } from "./finding";
import { RULE } from "./monitor-stopped";
import { randomHex } from "../output/output-file";

/** The syscall events a heartbeat calls (see loader/heartbeat.c). */
const BEATING = new Set(["init_module", "finit_module", "delete_module", "kexec_file_load"]);
const BEATING_IDS = new Set(EVENTS.filter((e) => BEATING.has(e.name)).map((e) => e.id));
const NONCE = /^mt_heartbeat_([0-9a-f]{12})_(\d+)$/;
const NONCE_PREFIX = new TextEncoder().encode("mt_heartbeat_");
const CAP_SYS_MODULE = 16;

interface Round {
  round: number;
  events: AttachedEvent[];
  arrived: Set<number>; // event ids
  lostPriority: number; // the priority ring's losses when it was made
  filtered: number;
}

/** This process's executable, as records name it. */
function ownExecutable(): string | undefined {
  try {
    return readlinkSync("/proc/self/exe");
  } catch {
    return undefined;
  }
}

/** This process's pid namespace (its inode number), as records carry it. */
function ownPidNamespace(): number {
  const m = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"));
  return m ? Number(m[1]) : -1;
}

export class Heartbeat {
  private readonly events: AttachedEvent[];
  private readonly tag = randomHex(6);
  private readonly pid = process.pid;
  private readonly pidNs = ownPidNamespace();
  private readonly exe = ownExecutable();
  /** Other captures' heartbeat calls left out. */
  others = 0;
  private next = 0;
  private round = 0;
  private pending?: Round;
  private silent = new Set<string>();
  private off = false;
  /** Rounds made, judged (the one in flight is not), and answered by every hook. */
  rounds = 0;
  judged = 0;
  answered = 0;

  /** `call` makes a round's calls (loader/heartbeat.c) and `now` is the
   * clock: the unit tests give their own. */
  constructor(
    attached: AttachedEvent[],
    private readonly intervalMs: number,
    private readonly say: (line: string) => void,
    private readonly call = (nonce: string, events: number): number => native().mt_heartbeat(cString(nonce), events),
    private readonly now = () => performance.now(),
  ) {
    this.events = attached.filter((a) => BEATING.has(a.event.name));
  }

  get beating(): boolean {
    return !this.off && this.intervalMs > 0 && this.events.length > 0;
  }

  /** The events whose hook did not answer the last round judged. */
  get silentEvents(): string[] {
    return [...this.silent];
  }

  /** Takes modtrace's own records out of the batch of `len` bytes in view;
   * returns the bytes left. A record that cannot be walked stops the walk
   * (the decoder reports it). */
  strip(view: Uint8Array, len: number): number {
    const dv = new DataView(view.buffer, view.byteOffset, len);
    let write = 0;
    let at = 0;
    while (at + layout.REC_SIZE <= len) {
      const size = dv.getUint32(at + layout.REC_OFF_SIZE, true);
      if (size < layout.REC_SIZE || at + size > len) break;
      if (dv.getUint32(at + layout.REC_OFF_PID, true) === this.pid && dv.getUint32(at + layout.REC_OFF_PID_NS, true) === this.pidNs) this.arrived(dv, at);
      else if (this.anotherCaptures(dv, at)) this.others++;
      else {
        if (write !== at) view.copyWithin(write, at, at + size);
        write += size;
      }
      at += size;
    }
    if (at < len) {
      if (write !== at) view.copyWithin(write, at, len);
      write += len - at;
    }
    return write;
  }

  /** A string slot of the record at `at`, or undefined when it holds none. */
  private slot(dv: DataView, at: number, slot: number): string | undefined {
    if (dv.getUint8(at + layout.REC_OFF_STR_STATE + slot) !== layout.STR_OK) return undefined;
    const off = dv.getUint16(at + layout.REC_OFF_STR_OFF + 2 * slot, true);
    const n = dv.getUint16(at + layout.REC_OFF_STR_LEN + 2 * slot, true);
    return new TextDecoder().decode(new Uint8Array(dv.buffer, dv.byteOffset + at + off, n));
  }

  /** A heartbeat call of another capture (see the top of this file). Runs
   * on every record of a burst: the cheap tests first, no BigInt, and a
   * string decoded only once its first bytes say it is a nonce. */
  private anotherCaptures(dv: DataView, at: number): boolean {
    if (!BEATING_IDS.has(dv.getUint8(at + layout.REC_OFF_EVENT))) return false;
    if (dv.getInt32(at + layout.REC_OFF_RET + 4, true) >= 0) return false; // ret >= 0: the high half's sign
    if (!((dv.getUint32(at + layout.REC_OFF_CAP_EFFECTIVE, true) >>> CAP_SYS_MODULE) & 1)) return false; // bit 16: the low half
    if (!(dv.getUint32(at + layout.REC_OFF_CONTEXT, true) & layout.CONTEXT_INIT_USER_NS)) return false;
    if (!this.startsWithNonce(dv, at)) return false;
    const nonce = this.slot(dv, at, layout.SLOT_ARG);
    return nonce !== undefined && NONCE.test(nonce) && this.exe !== undefined && this.slot(dv, at, layout.SLOT_EXE) === this.exe;
  }

  private startsWithNonce(dv: DataView, at: number): boolean {
    if (dv.getUint8(at + layout.REC_OFF_STR_STATE + layout.SLOT_ARG) !== layout.STR_OK) return false;
    if (dv.getUint16(at + layout.REC_OFF_STR_LEN + 2 * layout.SLOT_ARG, true) < NONCE_PREFIX.length) return false;
    const off = at + dv.getUint16(at + layout.REC_OFF_STR_OFF + 2 * layout.SLOT_ARG, true);
    for (let i = 0; i < NONCE_PREFIX.length; i++) if (dv.getUint8(off + i) !== NONCE_PREFIX[i]) return false;
    return true;
  }

  private arrived(dv: DataView, at: number) {
    const text = this.slot(dv, at, layout.SLOT_ARG);
    if (text === undefined) return;
    const m = NONCE.exec(text);
    if (!m || m[1] !== this.tag || !this.pending || Number(m[2]) !== this.pending.round) return;
    this.pending.arrived.add(dv.getUint8(at + layout.REC_OFF_EVENT));
  }

  /** Once per loop iteration: judges the last round and makes the next when
   * one is due. Returns a finding when a hook went silent. */
  tick(read: () => { lostPriority: number; filtered: number }): Finding | undefined {
    if (!this.beating) return undefined;
    const now = this.now();
    if (now < this.next) return undefined;
    const counters = read();
    const finding = this.judge(counters);
    this.next = now + this.intervalMs;
    if (!this.beating) return finding;
    const nonce = `mt_heartbeat_${this.tag}_${this.round}`;
    const made = this.call(nonce, this.events.reduce((m, a) => m | (1 << a.event.id), 0));
    this.pending = { round: this.round++, events: this.events.filter((a) => made & (1 << a.event.id)), arrived: new Set(), ...counters };
    this.rounds++;
    return finding;
  }

  /** After the last drain: the last round, judged. */
  finish(read: () => { lostPriority: number; filtered: number }): Finding | undefined {
    return this.beating ? this.judge(read()) : undefined;
  }

  /** What the summary at stop says of it. */
  summary(): string | undefined {
    if (!this.beating && !this.rounds) return this.others ? `heartbeat calls of other captures left out: ${this.others}` : undefined;
    const silent = this.silent.size ? `; silent now: ${[...this.silent].join(", ")}` : "";
    const others = this.others ? `; ${this.others} heartbeat calls of other captures left out` : "";
    return `heartbeat: ${this.rounds} round${this.rounds === 1 ? "" : "s"}, ${this.answered} answered by every hook${silent}${others}`;
  }

  /** What `capturing` says of it. */
  describe(): string {
    if (!this.beating) return this.intervalMs > 0 ? "heartbeat: none (no module syscall hook to check)" : "heartbeat: off (--heartbeat 0)";
    return `heartbeat every ${this.intervalMs / 1000} s through ${this.events.map((a) => a.event.name).join(", ")}`;
  }

  private judge(counters: { lostPriority: number; filtered: number }): Finding | undefined {
    const r = this.pending;
    if (!r) return undefined;
    this.pending = undefined;
    this.judged++;
    const missing = r.events.filter((a) => !r.arrived.has(a.event.id));
    for (const a of r.events) if (r.arrived.has(a.event.id) && this.silent.delete(a.event.name)) this.say(`heartbeat: ${a.event.name} (${a.hook}) reports again`);
    if (!missing.length) {
      this.answered++;
      return undefined;
    }
    // Dropped in the kernel, not tampered with: the count says so already.
    if (counters.lostPriority > r.lostPriority) return undefined;
    // The very first round filtered away whole: this process is not the one
    // the kernel-side filters let through (a pid namespace and /proc of its
    // own), not a blinding.
    if (r.round === 0 && missing.length === r.events.length && counters.filtered > r.filtered) {
      this.off = true;
      this.say("warning: heartbeat off: the capture's filters drop modtrace's own calls (in a pid namespace of its own?): run it in the host's pid namespace, or without --pid/--uid/--comm");
      return undefined;
    }
    const fresh = missing.filter((a) => !this.silent.has(a.event.name));
    for (const a of fresh) this.silent.add(a.event.name);
    if (!fresh.length) return undefined;
    const hooks = fresh.map((a) => `${a.event.name} (${a.hook})`).join(", ");
    return {
      rule: RULE,
      severity: "critical",
      techniques: ["T1562.001"],
      description: `modtrace's own heartbeat call did not come back through ${hooks}: the hook was detached, switched off (kprobes disabled?) or bypassed, and calls through it are not being recorded`,
      timestamp: BigInt(Date.now()) * 1_000_000n,
      evidence: [],
      details: { cause: "heartbeat", silent: fresh.map((a) => a.event.name), hooks: fresh.map((a) => `${a.event.name}: ${a.hook}`), intervalSeconds: this.intervalMs / 1000 },
    };
  }
}
