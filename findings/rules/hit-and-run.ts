// Rule 10: a module loaded and unloaded again within seconds has done its
// work in its init (planted a hook, read memory, escalated a process) and
// left; and an unload of a security tool's module blinds the host.
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";
import type { Evidence } from "../finding";
import { isLoadCall, outcome } from "./common";

interface Loaded {
  at: bigint;
  evidence: Evidence;
  untrusted: boolean;
}

const KEPT = 4096; // loads remembered at most, oldest dropped first

export const hitAndRun: RuleUnit = {
  ids: ["hit_and_run", "security_module_unloaded"],
  events: [layout.EVENT_MODULE_LOAD, layout.EVENT_INIT_MODULE, layout.EVENT_FINIT_MODULE, layout.EVENT_DELETE_MODULE],
  make: (ctx) => {
    const windowNs = BigInt(Math.round(ctx.config.hitAndRunSeconds * 1e9));
    const security = new Set(ctx.config.securityModules);
    const securityLengths = new Set(ctx.config.securityModules.map((m) => Buffer.byteLength(m)));
    const untrustedCalls = new Map<bigint, boolean>(); // callId -> its module_load said unsigned/out-of-tree
    const loaded = new Map<string, Loaded>();

    return {
      event(e, report) {
        if (e.id === layout.EVENT_MODULE_LOAD && e.callId !== undefined) {
          untrustedCalls.set(e.callId, e.taints !== 0n || e.sigOk === false);
          if (untrustedCalls.size > KEPT) untrustedCalls.delete(untrustedCalls.keys().next().value!);
          return;
        }
        if (isLoadCall(e) && e.returnValue === 0 && e.moduleName) {
          const untrusted = e.callId !== undefined && untrustedCalls.get(e.callId) === true;
          loaded.delete(e.moduleName);
          loaded.set(e.moduleName, { at: e.timestamp, evidence: evidence(e), untrusted });
          if (loaded.size > KEPT) loaded.delete(loaded.keys().next().value!);
          return;
        }
        if (e.id !== layout.EVENT_DELETE_MODULE) return;
        // A flood of failed unloads: decode no name that could not matter.
        if (e.returnValue !== 0 && !securityLengths.has(e.strLength(layout.SLOT_ARG))) return;
        const name = e.moduleName ?? e.strArg;
        if (name === undefined) return;
        if (security.has(name))
          report({
            rule: "security_module_unloaded",
            severity: ctx.severity("security_module_unloaded"),
            techniques: ["T1014"],
            description: `${e.processName} unloaded ${name}, a security tool's module${outcome(e)}`,
            timestamp: e.timestamp,
            evidence: [evidence(e)],
            moduleName: name,
            actor: actor(e),
          });
        const load = loaded.get(name);
        if (e.returnValue !== 0 || !load) return;
        loaded.delete(name);
        const after = e.timestamp - load.at;
        if (after > windowNs) return;
        report({
          rule: "hit_and_run",
          severity: ctx.severity(load.untrusted ? "hit_and_run.untrusted" : "hit_and_run"),
          techniques: ["T1547.006", "T1014"],
          description: `module ${name} was unloaded ${(Number(after) / 1e9).toFixed(3)} s after it loaded${load.untrusted ? " (unsigned or out-of-tree)" : ""}`,
          timestamp: e.timestamp,
          evidence: [load.evidence, evidence(e)],
          moduleName: name,
          actor: actor(e),
          details: { seconds: Number(after) / 1e9, untrusted: load.untrusted },
        });
      },
    };
  },
};
