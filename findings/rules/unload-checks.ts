// Rule 8: delete_module with O_TRUNC unloads a module the kernel would keep
// (in use, or refusing), at the price of its stability; and a name read from
// the caller's memory that differs from the module the kernel acted on is a
// time-of-check/time-of-use race someone ran on purpose.
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";
import { outcome } from "./common";

const O_TRUNC = 0o1000;

export const unloadChecks: RuleUnit = {
  ids: ["forced_unload", "name_mismatch"],
  events: [layout.EVENT_DELETE_MODULE],
  make: (ctx) => ({
    event(e, report) {
      if (e.id !== layout.EVENT_DELETE_MODULE) return;
      if (e.argLow(1) & O_TRUNC) {
        const asked = e.strArg;
        report({
          rule: "forced_unload",
          severity: ctx.severity("forced_unload"),
          techniques: ["T1014"],
          description: `${e.processName} forced the unload of ${asked ?? "?"} (O_TRUNC)${outcome(e)}`,
          timestamp: e.timestamp,
          evidence: [evidence(e)],
          moduleName: e.moduleName ?? asked,
          actor: actor(e),
        });
      }
      const acted = e.moduleName; // only where the kernel acted on a module
      if (acted === undefined) return;
      const asked = e.strArg;
      if (asked !== undefined && asked !== acted)
        report({
          rule: "name_mismatch",
          severity: ctx.severity("name_mismatch"),
          techniques: ["T1014"],
          description: `${e.processName} asked to unload '${asked}' but the kernel unloaded '${acted}': the name changed during the call`,
          timestamp: e.timestamp,
          evidence: [evidence(e)],
          moduleName: acted,
          actor: actor(e),
          details: { asked, acted },
        });
    },
  }),
};
