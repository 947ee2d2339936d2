// Rule 4: init_module hands the kernel an image from the caller's memory, so
// no file on disk is ever named: the fileless load. Module tools do it for
// compressed modules; anything else doing it is suspect.
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";
import { outcome } from "./common";

export const imageFromMemory: RuleUnit = {
  ids: ["image_from_memory"],
  events: [layout.EVENT_INIT_MODULE],
  make: (ctx) => ({
    event(e, report) {
      if (e.id !== layout.EVENT_INIT_MODULE || ctx.isModuleTool(e.executablePath)) return;
      report({
        rule: "image_from_memory",
        severity: ctx.severity("image_from_memory"),
        techniques: ["T1547.006", "T1014"],
        description: `${e.executablePath ?? e.processName} loaded a module image from its own memory (init_module), not a file${outcome(e)}`,
        timestamp: e.timestamp,
        evidence: [evidence(e)],
        moduleName: e.moduleName,
        actor: actor(e),
        details: { executable: e.executablePath ?? "", ...(e.sha256 && { sha256: e.sha256 }) },
      });
    },
  }),
};
