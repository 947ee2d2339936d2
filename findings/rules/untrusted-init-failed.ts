// Rule 15: the init of a module the kernel did not trust (unsigned,
// out-of-tree, forced, staging, proprietary: untrustedReasons()) ran and
// failed. Its init ran with the kernel's privileges whatever it returned, and
// failing on purpose leaves no module behind to find: a dropper's way to run
// code once, or to copy itself elsewhere first.
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";
import type { Evidence } from "../finding";
import { errnoName } from "./common";
import { untrustedReasons } from "./untrusted-module";

// Loads remembered until their init returns; a load whose init never shows
// (do_init_module not captured) must not grow the map.
const KEPT = 4096;

export const untrustedInitFailed: RuleUnit = {
  ids: ["untrusted_init_failed"],
  events: [layout.EVENT_MODULE_LOAD, layout.EVENT_DO_INIT_MODULE],
  make: (ctx) => {
    // By the load's call id, else its module name: the untrusted ones only.
    const loads = new Map<string, { reasons: string[]; evidence: Evidence }>();
    const keyOf = (callId: bigint | undefined, module: string | undefined) => (callId !== undefined ? `call ${callId}` : `module ${module}`);
    return {
      event(e, report) {
        if (e.id === layout.EVENT_MODULE_LOAD) {
          const reasons = untrustedReasons(e);
          if (!reasons.length) return;
          loads.set(keyOf(e.callId, e.moduleName), { reasons, evidence: evidence(e) });
          if (loads.size > KEPT) loads.delete(loads.keys().next().value!);
          return;
        }
        if (e.id !== layout.EVENT_DO_INIT_MODULE) return;
        const key = keyOf(e.callId, e.moduleName);
        const load = loads.get(key);
        loads.delete(key);
        if (!load || e.returnValue >= 0) return;
        report({
          rule: "untrusted_init_failed",
          severity: ctx.severity("untrusted_init_failed"),
          techniques: ["T1547.006", "T1014"],
          description: `module ${e.moduleName ?? "?"} (${load.reasons.join(", ")}) ran its init, which failed (${errnoName(e.returnValue)}): its code ran, and no module is left to find`,
          timestamp: e.timestamp,
          evidence: [load.evidence, evidence(e)],
          moduleName: e.moduleName,
          actor: actor(e),
          details: { reasons: load.reasons, initReturned: e.returnValue },
        });
      },
    };
  },
};
