// What the event stream says about module loads, for the kernel watches: which
// modules this capture saw the kernel load and initialise and not free (the
// ones that must be in the kernel's views), and whose init ran last (the
// likeliest author of a change a scan finds). Only live modules are kept.
import type { EventView } from "../../record/event-view";
import * as layout from "../../record/layout";
import { evidence } from "../rule";
import type { Evidence } from "../finding";

export interface ModuleLoad {
  name: string;
  /** Its module_load, do_init_module and load syscall, as far as seen. */
  evidence: Evidence[];
  /** Its init returned 0. */
  initialised: boolean;
  /** Where its code lies, as its module_load read it in the kernel (none
   * from a kernel or log that did not record it). */
  code?: { start: bigint; end: bigint };
}


export class ModuleLoads {
  private byName = new Map<string, ModuleLoad>();
  private byCall = new Map<bigint, ModuleLoad>();
  /** The module whose init ran last, or is running: module_load comes just before init. */
  last?: ModuleLoad;

  observe(e: EventView): void {
    switch (e.id) {
      case layout.EVENT_MODULE_LOAD: {
        const name = e.moduleName;
        if (!name) return;
        // module_load's code_base and code_size (catalogue/events.ts).
        const base = e.arg(0), size = e.arg(1);
        const load: ModuleLoad = { name, evidence: [evidence(e)], initialised: false, ...(base && size && { code: { start: base, end: base + size } }) };
        this.byName.set(name, load);
        if (e.callId !== undefined) this.byCall.set(e.callId, load);
        this.last = load;
        return;
      }
      case layout.EVENT_DO_INIT_MODULE: {
        const name = e.moduleName;
        if (!name) return;
        // A module_load lost or filtered away still leaves this.
        let load = this.byName.get(name);
        if (!load) this.byName.set(name, (load = { name, evidence: [], initialised: false }));
        load.evidence.push(evidence(e));
        if (e.returnValue === 0) load.initialised = true;
        this.last = load;
        return;
      }
      case layout.EVENT_INIT_MODULE:
      case layout.EVENT_FINIT_MODULE: {
        // The syscall is reported at its exit, after the load's other events.
        const load = (e.callId !== undefined ? this.byCall.get(e.callId) : undefined) ?? this.named(e.moduleName);
        if (e.callId !== undefined) this.byCall.delete(e.callId);
        if (!load) return;
        load.evidence.push(evidence(e));
        if (e.returnValue === 0) load.initialised = true;
        return;
      }
      case layout.EVENT_MODULE_FREE:
        this.forget(e.moduleName);
        return;
      case layout.EVENT_DELETE_MODULE:
        if (e.returnValue === 0) this.forget(e.moduleName ?? e.strArg);
        return;
    }
  }

  /** Modules this capture saw loaded and initialised, and not freed since. */
  live(): ModuleLoad[] {
    return [...this.byName.values()].filter((l) => l.initialised);
  }

  named(name: string | undefined): ModuleLoad | undefined {
    return name === undefined ? undefined : this.byName.get(name);
  }

  private forget(name: string | undefined) {
    const load = this.named(name);
    if (!load) return;
    this.byName.delete(load.name);
    for (const [id, l] of this.byCall) if (l === load) this.byCall.delete(id);
  }
}
