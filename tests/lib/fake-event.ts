// An event for the kernel watches' unit tests, made the way `modtrace read`
// makes one: a real event of the same kind from the VM fixtures (a capture
// of Debian's 6.1 kernel), the fields the test names put in, rebuilt into a
// record (record/records.ts) and read through the same view the findings
// read (record/event-view.ts). Nothing is cast: a field the record cannot
// hold fails here, as it would in a log.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { readLog } from "../../log/reader";
import { writeRecord } from "../../record/records";
import { EventView } from "../../record/event-view";
import * as layout from "../../record/layout";
import { eventByName } from "../../catalogue/events";

export interface FakeEvent {
  eventName: string;
  timestamp: bigint;
  module?: string;
  strArg?: string;
  callId?: bigint;
  ret?: number;
  /** module_load: its code base and size. */
  args?: bigint[];
  /** module_load: the module's taint flags. */
  taints?: bigint;
}

const FLEET = "tests/fixtures/vm";
let templates: Map<string, any> | undefined;

/** The first event of each kind in the fixtures. */
function template(name: string): any {
  if (!templates) {
    templates = new Map();
    for (const host of readdirSync(FLEET))
      for (const f of readdirSync(join(FLEET, host)).sort())
        for (const item of readLog(join(FLEET, host, f), []))
          if (item.kind === "event" && !templates.has(item.value.eventName)) templates.set(item.value.eventName, item.value);
  }
  const t = templates.get(name);
  if (!t) throw new Error(`no ${name} in the fixtures to make a fake one from`);
  return structuredClone(t);
}

export function fakeEvent(f: FakeEvent): EventView {
  const info = eventByName(f.eventName);
  if (!info) throw new Error(`no event ${f.eventName}`);
  const e = template(f.eventName);
  e.timestamp = f.timestamp;
  e.returnValue = f.ret ?? 0;
  delete e.returnError;
  delete e.callId;
  if (f.callId !== undefined) e.callId = f.callId;
  const set = (name: string, value: unknown) => {
    e.args = e.args.filter((a: any) => a.name !== name);
    if (value === undefined) return;
    const spec = info.args.find((a) => a.name === name)!;
    e.args.push({ name, type: spec.type, value });
  };
  if (info.kind === "syscall") {
    delete e.moduleName;
    if (f.module !== undefined) e.moduleName = f.module;
    if (f.eventName === "delete_module") set("name", f.strArg ?? f.module);
  } else if (f.module !== undefined) set("name", f.module);
  if (f.eventName === "module_load") {
    set("code_base", f.args?.[0]);
    set("code_size", f.args?.[1]);
    if (f.taints !== undefined) set("taints", f.taints);
  }
  e.argsNum = e.args.length;
  const bytes = new Uint8Array(layout.RECORD_MAX);
  const view = new DataView(bytes.buffer);
  writeRecord(e, view, bytes, 0);
  const ev = new EventView(view, bytes, 0n);
  ev.moveTo(0);
  return ev;
}
