// TEMPORARY, until cmd/findings/engine.ts runs the kernel watches inside
// modtrace: runs them beside a capture in the VM. Follows the JSON lines a
// `modtrace -o json:FILE` capture writes, feeds each event to the watches
// (through the fields they read), scans after every module_load and
// do_init_module and every second, and writes each finding as a JSON line
// shaped like modtrace's own (eventName = the rule). Stops on SIGINT/SIGTERM
// after a last read. Compiled with `bun build --compile` by
// tests/vm/findings-kernel.test.ts; delete it once modtrace has --scan-interval.
//   watch-harness EVENTS.json FINDINGS.json
import { appendFileSync, closeSync, openSync, readSync } from "node:fs";
import type { EventView } from "../../cmd/findings/event-view";
import type { Finding } from "../../cmd/findings/finding";
import type { KernelWatch } from "../../cmd/findings/watch";
import { hiddenModuleWatch } from "../../cmd/findings/watches/hidden-module";
import { syscallDispatchWatch } from "../../cmd/findings/watches/syscall-dispatch";
import { fakeEvent } from "../lib/fake-event";

const [eventsPath, findingsPath] = process.argv.slice(2);
const watches: KernelWatch[] = [hiddenModuleWatch(), syscallDispatchWatch()];
for (const w of watches) console.error(`watch-harness: ${w.rule}: ${w.unavailable ?? "watching"}`);
const live = watches.filter((w) => !w.unavailable);

const big = (v: unknown) => (v === undefined || v === null ? undefined : BigInt(v as number));
const json = (f: Finding) =>
  JSON.stringify({ ...f, rule: undefined, eventName: f.rule, timestamp: String(f.timestamp),
    evidence: f.evidence.map((e) => ({ eventName: e.eventName, timestamp: String(e.timestamp), callId: e.callId === undefined ? undefined : Number(e.callId) })) });
const report = (f: Finding) => appendFileSync(findingsPath, json(f) + "\n");
const scan = () => { for (const w of live) w.scan(BigInt(Date.now()) * 1_000_000n, report); };

const fd = openSync(eventsPath, "r");
let offset = 0;
let pending = "";
function follow() {
  const buf = Buffer.alloc(1 << 16);
  for (let n; (n = readSync(fd, buf, 0, buf.length, offset)) > 0; offset += n) pending += buf.toString("utf8", 0, n);
  const lines = pending.split("\n");
  pending = lines.pop()!;
  for (const line of lines.filter(Boolean)) {
    const e = JSON.parse(line);
    const name = e.args?.find((a: any) => a.name === "name")?.value;
    const view = fakeEvent({
      eventName: e.eventName, timestamp: BigInt(e.timestamp), callId: big(e.callId), ret: e.returnValue ?? 0,
      module: e.moduleName ?? (e.eventName === "delete_module" || e.eventName === "module_request" ? undefined : name),
      strArg: e.eventName === "delete_module" ? name : undefined,
    }) as EventView;
    for (const w of live) w.observe(view);
    if (e.eventName === "module_load" || e.eventName === "do_init_module") scan();
  }
}

let last = 0;
const timer = setInterval(() => {
  follow();
  if (Date.now() - last >= 1000) { scan(); last = Date.now(); }
}, 250);
const stop = () => { clearInterval(timer); follow(); scan(); closeSync(fd); process.exit(0); };
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
