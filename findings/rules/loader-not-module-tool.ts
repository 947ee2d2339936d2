// Rule 5: modules are loaded by kmod (insmod, modprobe), busybox and udev;
// a load by any other executable is worth a look (moduleTools in lists.json,
// --module-tool and --findings-config extend the list).
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";
import { isLoadCall, outcome } from "./common";

export const loaderNotModuleTool: RuleUnit = {
  ids: ["loader_not_module_tool"],
  events: [layout.EVENT_INIT_MODULE, layout.EVENT_FINIT_MODULE],
  make: (ctx) => ({
    event(e, report) {
      if (!isLoadCall(e) || ctx.isModuleTool(e.executablePath)) return;
      report({
        rule: "loader_not_module_tool",
        severity: ctx.severity("loader_not_module_tool"),
        techniques: ["T1547.006"],
        description: `${e.eventName} by ${e.executablePath ?? `'${e.processName}' (executable unknown)`}, which is not a module tool${outcome(e)}`,
        timestamp: e.timestamp,
        evidence: [evidence(e)],
        moduleName: e.moduleName,
        actor: actor(e),
        details: { executable: e.executablePath ?? "" },
      });
    },
  }),
};
