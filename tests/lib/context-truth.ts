// An event's caller context against what /proc said of the caller and its
// ancestors just before the call (`trigger context` prints it): the truth
// comes from the kernel's other interface, never from modtrace.
import { expect } from "bun:test";

const ANCESTORS = 8;

const text = (hex: string) => Buffer.from(hex, "hex").toString("utf8");

/** The trigger's "context" line followed by its call: the call's truth gets the context. */
export function withContext(lines: any[]): any[] {
  const out: any[] = [];
  let context: any;
  for (const l of lines) {
    if (l.call === "context") context = l;
    else {
      out.push(context && l.pid === context.pid ? { ...l, context } : l);
      context = undefined;
    }
  }
  return out;
}

export function expectContext(e: any, t: any) {
  expect(e.hostProcessId).toBe(t.pid);
  expect(e.effectiveUserId).toBe(t.euid);
  expect(e.loginUserId).toBe(t.loginuid);
  expect(e.sessionId).toBe(t.sessionid);
  // Both or neither: a record made before modtrace read it has none, and its truth neither.
  expect(e.netNamespace).toBe(t.net_ns);
  const caps = BigInt(`0x${t.cap_eff}`);
  expect(BigInt(e.capabilities.effective)).toBe(caps);
  expect(e.capabilities.sysModule).toBe(((caps >> 16n) & 1n) === 1n);
  expect(e.cgroup.path).toBe(text(t.cgroup_hex));
  expectAncestors(e, t.ancestors, t.clk_tck);
}

/** The event's ancestors against a /proc walk from its parent up: pid,
 * comm, executable (where /proc showed it) and start time. */
export function expectAncestors(e: any, walk: any[], clkTck: number) {
  const expected = walk.slice(0, ANCESTORS);
  expect(e.ancestors.map((a: any) => a.hostProcessId)).toEqual(expected.map((a: any) => a.pid));
  expect(e.ancestors.map((a: any) => a.processName)).toEqual(expected.map((a: any) => text(a.comm_hex)));
  expect(e.ancestryCut === true).toBe(walk.length > ANCESTORS);
  expected.forEach((a: any, i: number) => {
    // /proc/PID/exe adds " (deleted)" to an unlinked file, and root may be refused another namespace's.
    const exe = a.exe_hex === undefined ? undefined : text(a.exe_hex);
    if (exe !== undefined && !exe.endsWith(" (deleted)")) expect(e.ancestors[i].executable.path).toBe(exe);
    // Start times: /proc counts clock ticks since boot, modtrace wall-clock ns
    // from the same boot clock; their differences agree within a tick.
    const tick = 1e9 / clkTck;
    const ns = Number(BigInt(e.ancestors[i].startTime) - BigInt(e.ancestors[0].startTime));
    const ticks = (a.start_ticks - expected[0].start_ticks) * tick;
    expect(Math.abs(ns - ticks)).toBeLessThanOrEqual(tick);
  });
}
