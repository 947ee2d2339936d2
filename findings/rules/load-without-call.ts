// Rule 14: a module_load on a thread that was in no init_module or
// finit_module call (bpf/module_record.h, in_load_syscall()). The kernel
// loads modules from those two calls only, through either syscall entry, so
// a load anywhere else came by a way modtrace does not know: a new kernel
// path, or code already in the kernel loading more.
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";

export const loadWithoutCall: RuleUnit = {
  ids: ["load_without_call"],
  events: [layout.EVENT_MODULE_LOAD],
  make: (ctx) => ({
    event(e, report) {
      if (e.id !== layout.EVENT_MODULE_LOAD || !(e.flags & layout.FLAG_NO_LOAD_CALL)) return;
      report({
        rule: "load_without_call",
        severity: ctx.severity("load_without_call"),
        techniques: ["T1547.006", "T1014"],
        description: `module ${e.moduleName ?? "?"} was loaded by ${e.processName} (pid ${e.hostProcessId}), which was in no init_module or finit_module call`,
        timestamp: e.timestamp,
        evidence: [evidence(e)],
        moduleName: e.moduleName,
        actor: actor(e),
      });
    },
  }),
};
