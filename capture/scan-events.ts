// The scan events (catalogue kind "scan"): the kernel's own lists of hooks
// on its code, read every --scan-interval, each entry that came or went
// since the scan before written to the log as an event, through the same
// record and decoder as the kernel's events. The first scan, right after
// modtrace attached its own programs, is the starting point: what was in
// place then is the log header's, not events. Each list is read as the
// findings' watches read it (findings/watches), and what it cannot see is
// theirs too; an entry that comes and goes between two scans is in neither.
import { readFileSync } from "node:fs";
import { ptr } from "bun:ffi";
import { native } from "../loader/native";
import type { CaptureClock, Schedule } from "../loader/capture-clock";
import type { EventInfo } from "../catalogue/events";
import type { RecordSource } from "../record/records";
import type { LoggedArgument } from "../record/generated/event";
import { enabledFunctionsFile, moduleCallbacks } from "../findings/watches/ftrace-hooks";
import { KPROBES_LIST, parseKprobes, sensitive } from "../findings/watches/kprobes";
import { programReader, typeName } from "../findings/watches/bpf-programs";

/** One list: its entries now (an entry's key, the event's arguments, and
 * its own time where the kernel records one), or why it cannot be read here. */
interface Inventory {
  event: string;
  read(): Map<string, { args: Record<string, LoggedArgument["value"]>; bootNs?: bigint }> | string;
}

/** An event map for writeRecord: no process is behind a scan event, so
 * every identity field is 0 and there is no caller context. */
export type ScanEventMap = RecordSource & { hook: "scan"; timestamp: bigint };

const NO_PROCESS = {
  cgroupId: 0, returnValue: 0, hostProcessId: 0, hostThreadId: 0, hostParentProcessId: 0, processId: 0, threadId: 0, parentProcessId: 0,
  userId: 0, groupId: 0, mountNamespace: 0, pidNamespace: 0, processName: "",
};

function ftraceInventory(hookedFunctions: string[]): Inventory {
  return {
    event: "ftrace_hook",
    read() {
      const file = enabledFunctionsFile();
      if (!file) return "no enabled_functions in tracefs (not mounted, or no CONFIG_DYNAMIC_FTRACE)";
      const hooks = moduleCallbacks(readFileSync(file, "utf8"), (fn) => sensitive(fn, hookedFunctions) !== undefined);
      return new Map(hooks.map((h) => [`${h.function}\0${h.callback}`, { args: { symbol: h.function, callback: h.callback, callback_owner: h.module ?? null } }]));
    },
  };
}

function kprobeInventory(): Inventory {
  return {
    event: "kprobe_hook",
    read() {
      let text: string;
      try {
        text = readFileSync(KPROBES_LIST, "utf8");
      } catch (e) {
        return `cannot read ${KPROBES_LIST}: ${(e as Error).message}`;
      }
      return new Map(
        parseKprobes(text).map((p) => [
          `${p.kind}\0${p.symbol}\0${p.offset}\0${p.addr}`,
          { args: { symbol: `${p.symbol}+0x${p.offset.toString(16)}`, address: p.addr, probe_type: p.kind, probe_flags: p.flags.join(" ") } },
        ]),
      );
    },
  };
}

/** The ids of the stubs this process loaded to probe hooks (loader/probe.c):
 * they linger for a moment after their close, and are no news. */
function ownStubIds(): Set<number> {
  const ids = new Uint32Array(256);
  const n = native().mt_probe_stub_ids(ptr(ids), ids.length);
  return new Set(ids.subarray(0, Math.min(n, ids.length)));
}

function bpfInventory(): Inventory {
  return {
    event: "bpf_program",
    read() {
      const read = programReader();
      if (typeof read === "string") return read;
      const own = ownStubIds();
      return new Map(
        read().filter((p) => !own.has(p.id)).map((p) => [
          String(p.id),
          // Its load time as the kernel keeps it (boot clock): when, not when seen.
          { args: { prog_id: p.id, prog_name: p.name, prog_type: typeName(p.type), prog_helpers: p.helpers.join(" "), prog_uid: p.uid }, bootNs: p.loadTimeNs },
        ]),
      );
    },
  };
}

export class ScanEvents {
  private lists: { inventory: Inventory; info: EventInfo; before?: Map<string, { args: Record<string, LoggedArgument["value"]>; bootNs?: bigint }> }[];
  /** The events whose list cannot be read here, and why: left out. */
  readonly unavailable: { event: EventInfo; why: string }[] = [];
  /** A list that could be read at the start and not at a later scan, once per reason (for stderr). */
  readonly failed: { event: string; why: string }[] = [];
  private said = new Set<string>();
  private readonly schedule: Schedule;

  /** events: the scan events the capture selected. */
  constructor(events: EventInfo[], private clock: CaptureClock, intervalSec: number, hookedFunctions: string[]) {
    this.schedule = clock.every(intervalSec);
    const all = [ftraceInventory(hookedFunctions), kprobeInventory(), bpfInventory()];
    this.lists = events.flatMap((info) => all.filter((i) => i.event === info.name).map((inventory) => ({ inventory, info })));
    this.scan(); // the starting point
    for (const l of this.lists.filter((l) => !l.before)) this.unavailable.push({ event: l.info, why: this.failed.find((f) => f.event === l.info.name)!.why });
    this.lists = this.lists.filter((l) => l.before);
    this.failed.length = 0;
  }

  get events(): EventInfo[] {
    return this.lists.map((l) => l.info);
  }

  due(): boolean {
    return this.schedule.due();
  }

  /** Reads every list; the event maps of what came and went since the last scan. */
  scan(): ScanEventMap[] {
    this.schedule.done();
    // The records' own clock: the decoder puts them on the wall clock.
    const nowBootNs = this.clock.bootNs();
    const out: ScanEventMap[] = [];
    for (const list of this.lists) {
      let now;
      try {
        now = list.inventory.read();
      } catch (e) {
        now = (e as Error).message;
      }
      if (typeof now === "string") {
        if (!this.said.has(`${list.info.name}\0${now}`)) this.said.add(`${list.info.name}\0${now}`) && this.failed.push({ event: list.info.name, why: now });
        continue; // the next scan compares with the last one read
      }
      if (list.before) {
        const event = (args: Record<string, LoggedArgument["value"]>, change: string, bootNs: bigint): ScanEventMap => ({
          ...NO_PROCESS,
          eventName: list.info.name,
          hook: "scan",
          timestamp: bootNs,
          args: [...Object.entries(args).map(([name, value]) => ({ name, value })), { name: "change", value: change }],
        });
        for (const [key, entry] of now) if (!list.before.has(key)) out.push(event(entry.args, "added", entry.bootNs && entry.bootNs <= nowBootNs ? entry.bootNs : nowBootNs));
        for (const [key, entry] of list.before) if (!now.has(key)) out.push(event(entry.args, "removed", nowBootNs));
      }
      list.before = now;
    }
    return out;
  }
}
