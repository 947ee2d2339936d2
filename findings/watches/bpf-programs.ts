// bpf_dangerous_helper: a BPF program loaded in the kernel that calls a
// helper which changes what the system does instead of observing it. eBPF
// rootkits are no modules: they write into processes' memory
// (bpf_probe_write_user: hide a file from ls, change what sudo reads),
// change what a kernel function returns (bpf_override_return: make a call
// fail or succeed), or kill what looks at them (bpf_send_signal). The
// programs are listed with the kernel's own program info
// (loader/bpf-programs.c); modtrace's own programs call none of these. Who
// holds a program (its loader, while it runs) comes from /proc
// (bpf-holders.ts); `modtrace scan --json` lists every program so.
import { readFileSync } from "node:fs";
import { ptr } from "bun:ffi";
import { native } from "../../loader/native";
import type { KernelWatch } from "../watch";
import { listWatch } from "./list-watch";
import * as layout from "../../record/layout";
import { evidence } from "../rule";
import type { Evidence } from "../finding";
import { parseKallsyms, showsAddresses } from "./kallsyms";
import { bpfHolding, describeHolders, type Holding } from "./bpf-holders";
import { describeAttachments, linkAttachments, perfAttachment, type Attachment } from "./bpf-attachments";

export const RULE = "bpf_dangerous_helper";

/** The helpers watched, with the case of the rule each one raises. */
export const HELPERS = [
  { name: "bpf_probe_write_user", does: "writes into processes' memory", case: undefined },
  { name: "bpf_override_return", does: "changes what a kernel function returns", case: undefined },
  { name: "bpf_send_signal", does: "sends signals to processes", case: "signal" },
  { name: "bpf_send_signal_thread", does: "sends signals to threads", case: "signal" },
] as const;

// include/uapi/linux/bpf.h, enum bpf_prog_type: the ones these helpers run in.
const PROG_TYPES: Record<number, string> = { 2: "kprobe", 5: "tracepoint", 7: "perf_event", 17: "raw_tracepoint", 24: "raw_tracepoint_writable", 26: "tracing", 29: "lsm" };

export interface BpfProgram {
  id: number;
  type: number;
  uid: number;
  callsKnown: boolean;
  loadTimeNs: bigint; // since boot
  name: string;
  helpers: string[];
}

const RECORD = 48;

/** Every loaded program, with the watched helpers it calls (by address). */
export function listPrograms(callBase: bigint, targets: bigint[]): BpfProgram[] {
  const lib = native();
  const want = new BigUint64Array(targets);
  const rec = new Uint8Array(RECORD);
  const view = new DataView(rec.buffer);
  const out: BpfProgram[] = [];
  for (let after = 0; ; ) {
    const r = lib.mt_bpf_program_after(after, ptr(want), targets.length, callBase, ptr(rec));
    if (r < 0) throw new Error(`listing BPF programs failed: errno ${-r}`);
    if (r === 0) return out;
    const id = view.getUint32(0, true);
    const mask = view.getBigUint64(40, true);
    const nameBytes = rec.subarray(24, 40);
    const end = nameBytes.indexOf(0);
    out.push({
      id,
      type: view.getUint32(4, true),
      uid: view.getUint32(8, true),
      callsKnown: view.getUint32(12, true) !== 0,
      loadTimeNs: view.getBigUint64(16, true),
      name: Buffer.from(end < 0 ? nameBytes : nameBytes.subarray(0, end)).toString("latin1"),
      helpers: HELPERS.filter((_, k) => (mask >> BigInt(k)) & 1n).map((h) => h.name),
    });
    after = id;
  }
}

/** A reader of the loaded programs, or why this kernel gives none. The
 * addresses it needs are core kernel symbols, fixed for the boot: kallsyms
 * is parsed once per process (scan's watch and its inventory share it). */
export function programReader(kallsyms = "/proc/kallsyms"): (() => BpfProgram[]) | string {
  let reader = readers.get(kallsyms);
  if (reader === undefined) readers.set(kallsyms, (reader = newProgramReader(kallsyms)));
  return reader;
}

const readers = new Map<string, (() => BpfProgram[]) | string>();

function newProgramReader(kallsyms: string): (() => BpfProgram[]) | string {
  let syms;
  try {
    syms = parseKallsyms(readFileSync(kallsyms, "utf8"));
  } catch (e) {
    return `cannot read ${kallsyms}: ${(e as Error).message}`;
  }
  if (!showsAddresses(syms)) return `${kallsyms} shows no addresses: run as root, with kernel.kptr_restrict below 2`;
  const addr = (name: string) => {
    const s = syms.find((x) => x.name === name && x.module === undefined);
    return s ? BigInt(`0x${s.addr}`) : 0n;
  };
  const callBase = addr("__bpf_call_base");
  if (!callBase) return `no __bpf_call_base in ${kallsyms}: this kernel has no BPF syscall`;
  // A helper the kernel was built without (bpf_override_return needs
  // CONFIG_BPF_KPROBE_OVERRIDE) has address 0, which no call reaches.
  const targets = HELPERS.map((h) => addr(h.name));
  return () => listPrograms(callBase, targets);
}

export const typeName = (type: number) => PROG_TYPES[type] ?? `type ${type}`;

/** Who holds the programs and where they are attached, read together: one
 * walk of /proc (holders, perf events) and one of the links. */
export interface ProgramPlaces {
  holding: Holding;
  links: Map<number, Attachment[]>;
}

export function programPlaces(): ProgramPlaces {
  return { holding: bpfHolding("/proc", perfAttachment), links: linkAttachments() };
}

const attachedTo = (places: ProgramPlaces, id: number) => [...(places.links.get(id) ?? []), ...(places.holding.perf.get(id) ?? [])];

/** Every loaded program as `modtrace scan --json` lists it, with its holders and attachments. */
export function programInventory(read: () => BpfProgram[]) {
  const places = programPlaces();
  return read().map((p) => ({
    id: p.id, name: p.name, type: typeName(p.type), uid: p.uid, loadedSecondsAfterBoot: Number(p.loadTimeNs / 1_000_000n) / 1000,
    helpers: p.helpers, ...(p.callsKnown ? {} : { callsUnknown: true }), heldBy: places.holding.heldBy.get(p.id) ?? [], attachedTo: attachedTo(places, p.id),
  }));
}

export function bpfProgramsWatch(opts: { kallsyms?: string } = {}): KernelWatch {
  const read = programReader(opts.kallsyms);
  if (typeof read === "string") return { rule: RULE, unavailable: read, observe() {}, scan() {} };
  // One walk of /proc and of the links per scan that has something to report.
  let places: { at: bigint; places: ProgramPlaces } | undefined;
  const placesAt = (nowNs: bigint) => {
    if (places?.at !== nowNs) places = { at: nowNs, places: programPlaces() };
    return places.places;
  };
  // The scan event that logged each program's arrival (capture/scan-events.ts),
  // by id: its finding cites it. The event comes first: scan events are
  // read in before the watches scan.
  const arrivals = new Map<number, Evidence>();
  return listWatch({
    rule: RULE,
    observe(e) {
      if (e.id === layout.EVENT_BPF_PROGRAM && !arrivals.has(Number(e.arg(0)))) arrivals.set(Number(e.arg(0)), evidence(e));
    },
    read,
    key: (p) => String(p.id),
    finding(p, atStart, nowNs) {
      if (!p.helpers.length) return undefined;
      const worst = HELPERS.find((h) => p.helpers.includes(h.name) && h.case === undefined) ?? HELPERS.find((h) => p.helpers.includes(h.name))!;
      const type = typeName(p.type);
      const now = placesAt(nowNs);
      const held = now.holding.heldBy.get(p.id) ?? [];
      const attached = attachedTo(now, p.id);
      return {
        rule: RULE,
        severity: "high",
        techniques: ["T1014", "T1562.001"],
        description: `BPF program ${p.id} (${p.name || "unnamed"}, ${type}, loaded by uid ${p.uid}, ${describeHolders(held)}, ${attached.length ? `attached to ${describeAttachments(attached)}` : "not attached where modtrace can see"}) calls ${p.helpers.join(", ")}: it ${worst.does}${atStart ? "; loaded before the capture started" : ""}`,
        timestamp: nowNs,
        evidence: arrivals.has(p.id) ? [arrivals.get(p.id)!] : [],
        details: { id: p.id, name: p.name, type, uid: p.uid, helpers: p.helpers, heldBy: held, attachedTo: attached, loadedSecondsAfterBoot: Number(p.loadTimeNs / 1_000_000n) / 1000, inPlaceAtStart: atStart, ...(worst.case && { case: worst.case }) },
      };
    },
  });
}
