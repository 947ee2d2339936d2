// The heartbeat's bookkeeping (findings/heartbeat.ts), with its calls and clock
// given by the test: which records are its own (this process, by pid and pid
// namespace) and leave the batch, which round a record answers, and when a
// silent hook is a finding. The kernel side is the host and VM tiers'.
import { beforeAll, expect, test } from "bun:test";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import wasmPath from "../../../build/decoder.wasm" with { type: "file" };
import { eventByName } from "../../../catalogue/events";
import { Decoder } from "../../../decoder/host";
import { Heartbeat } from "../../../findings/heartbeat";
import { readLog } from "../../../log/reader";
import { writeRecords } from "../../../record/records";
import { forEachRecord } from "../../../record/event-view";

const FLEET = "tests/fixtures/vm";
const fleet: any[] = readdirSync(FLEET).flatMap((host) =>
  readdirSync(join(FLEET, host)).flatMap((f) => [...readLog(join(FLEET, host, f), [])].filter((i) => i.kind === "event").map((i) => i.value)),
);
const ownPidNs = Number(/\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))![1]);

let decoder: Decoder;
beforeAll(async () => {
  decoder = await Decoder.load(readFileSync(wasmPath));
  decoder.setClockOffset(0n);
});

/** A real event of the fixtures, from `pid` in `pidNs`, whose string argument `arg` is `text`. */
function event(name: string, arg: string, text: string, pid = process.pid, pidNs = ownPidNs): any {
  const e = structuredClone(fleet.find((x) => x.eventName === name));
  Object.assign(e, { processId: pid, pidNamespace: pidNs });
  e.args = e.args.map((a: any) => (a.name === arg ? { ...a, value: text } : a));
  return e;
}
const deleteCall = (text: string, pid?: number, pidNs?: number) => event("delete_module", "name", text, pid, pidNs);
const finitCall = (text: string) => event("finit_module", "param_values", text);

const attached = [
  { event: eventByName("finit_module")!, hook: "fentry/fexit" },
  { event: eventByName("delete_module")!, hook: "fentry/fexit" },
  { event: eventByName("module_load")!, hook: "tracepoint module:module_load" },
];

/** A heartbeat on a clock the test moves, whose calls are only remembered. */
function rig() {
  const said: string[] = [];
  const nonces: string[] = [];
  let clock = 0;
  const hb = new Heartbeat(attached, 1000, (l) => said.push(l), (nonce, events) => (nonces.push(nonce), events), () => clock);
  const counters = { lostPriority: 0, filtered: 0 };
  const tick = (seconds: number) => {
    clock += seconds * 1000;
    return hb.tick(() => counters);
  };
  /** The batch through strip(): the events left, by name and pid. */
  const batch = (events: any[]) => {
    const len = writeRecords(events, decoder);
    const kept = hb.strip(decoder.inputView(len), len);
    const left: string[] = [];
    forEachRecord(decoder.inputView(kept), kept, 0n, (e) => left.push(`${e.eventName} ${e.strArg}`));
    return left;
  };
  return { hb, said, nonces, counters, tick, batch };
}

test("its own records leave the batch whole, the others stay in order; an answered round is no finding", () => {
  const r = rig();
  expect(r.tick(0)).toBeUndefined(); // round 0 made at once
  expect(r.nonces.length).toBe(1);
  const nonce = r.nonces[0];
  expect(nonce).toMatch(/^mt_heartbeat_[0-9a-f]{12}_0$/);
  // Every record of this process goes (modtrace makes no other module call);
  // the same pid number in another pid namespace is another process.
  const left = r.batch([deleteCall("before", process.pid + 2), finitCall(nonce), deleteCall(nonce), deleteCall("other-ns", process.pid, ownPidNs + 1), deleteCall("after", process.pid + 1)]);
  expect(left).toEqual(["delete_module before", "delete_module other-ns", "delete_module after"]);
  expect(r.tick(0.5)).toBeUndefined(); // not due yet
  expect(r.tick(0.5)).toBeUndefined(); // round 0 judged: both answered; round 1 made
  expect(r.hb.answered).toBe(1);
  expect(r.hb.rounds).toBe(2);
  expect(r.hb.describe()).toBe("heartbeat every 1 s through finit_module, delete_module");
});

test("a hook that stays silent is one monitor_tampered finding until it answers again", () => {
  const r = rig();
  r.tick(0);
  r.batch([deleteCall(r.nonces[0]), finitCall(r.nonces[0])]);
  r.tick(1);
  r.batch([deleteCall(r.nonces[1])]); // finit_module's hook silent in round 1
  const finding = r.tick(1);
  expect(finding).toMatchObject({ rule: "monitor_tampered", severity: "critical", details: { cause: "heartbeat", silent: ["finit_module"], hooks: ["finit_module: fentry/fexit"] } });
  expect(finding!.description).toContain("did not come back through finit_module (fentry/fexit)");
  r.batch([deleteCall(r.nonces[2])]);
  expect(r.tick(1)).toBeUndefined(); // still silent: said once
  expect(r.hb.silentEvents).toEqual(["finit_module"]);
  // An answer of an older round does not count for this one.
  r.batch([deleteCall(r.nonces[3]), finitCall(r.nonces[2])]);
  expect(r.tick(1)).toBeUndefined();
  expect(r.hb.silentEvents).toEqual(["finit_module"]);
  r.batch([deleteCall(r.nonces[4]), finitCall(r.nonces[4])]);
  expect(r.tick(1)).toBeUndefined();
  expect(r.said).toContain("heartbeat: finit_module (fentry/fexit) reports again");
  expect(r.hb.silentEvents).toEqual([]);
  expect(r.hb.summary()).toBe("heartbeat: 6 rounds, 2 answered by every hook");
});

test("a round lost with the priority ring full is the loss counters' to say, not a finding", () => {
  const r = rig();
  r.tick(0);
  r.counters.lostPriority = 3;
  expect(r.tick(1)).toBeUndefined();
  expect(r.hb.silentEvents).toEqual([]);
});

test("a first round filtered away whole turns the heartbeat off with the reason, rather than crying tamper", () => {
  const r = rig();
  r.tick(0);
  r.counters.filtered = 4;
  expect(r.tick(1)).toBeUndefined();
  expect(r.hb.beating).toBe(false);
  expect(r.said.join("\n")).toContain("heartbeat off: the capture's filters drop modtrace's own calls");
  // A first round silent without filtering is a finding like any other.
  const s = rig();
  s.tick(0);
  expect(s.tick(1)?.details).toMatchObject({ cause: "heartbeat", silent: ["finit_module", "delete_module"] });
});

test("another capture's heartbeat calls are left out and counted: failed, privileged, from this executable's path, with a nonce; nothing else is", () => {
  const r = rig();
  const other = process.pid + 7;
  const nonce = "mt_heartbeat_0123456789ab_5";
  const theirs = (change: Record<string, unknown> = {}, text = nonce) => ({
    ...deleteCall(text, other),
    returnValue: -2,
    executable: { path: readlinkSync("/proc/self/exe") },
    capabilities: { effective: 1n << 16n, sysModule: true },
    initialNamespaces: { user: true, pid: true, mount: true },
    ...change,
  });
  const left = r.batch([
    theirs(),
    theirs({ returnValue: 0 }), // a call that worked is never left out
    theirs({ executable: { path: "/tmp/modtrace" } }), // another executable
    theirs({ capabilities: { effective: 0n, sysModule: false } }), // no CAP_SYS_MODULE
    theirs({}, "mt_heartbeat_x"), // not a nonce
  ]);
  expect(left.length).toBe(4);
  expect(r.hb.others).toBe(1);
});
