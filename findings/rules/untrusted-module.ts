// Rule 6: the kernel's own verdict on a module as it loads (module_load's
// taints and sig_ok): unsigned where the kernel checks signatures,
// out-of-tree, forced past its version magic, from staging, or proprietary.
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";
import { MODULE_TAINTS, hasTaint } from "../module-taints";
import type { EventView } from "../../record/event-view";

// What a module's provenance taints: live patches and test modules are
// neither untrusted nor trusted by their taint alone.
const PROVENANCE = MODULE_TAINTS.filter((t) => "PFCOE".includes(t.letter));

/** Why a module_load's module is untrusted by the kernel's own verdict ([] when it is not). */
export function untrustedReasons(e: EventView): string[] {
  const reasons = PROVENANCE.filter((t) => hasTaint(e.taints, t)).map((t) => t.what);
  // sig_ok false without the unsigned taint: a kernel that enforces
  // signatures refuses such a module, one that does not taints it; either
  // way say it.
  if (e.sigOk === false && !reasons.includes("unsigned")) reasons.push("unsigned");
  return reasons;
}

export const untrustedModule: RuleUnit = {
  ids: ["untrusted_module"],
  events: [layout.EVENT_MODULE_LOAD],
  make: (ctx) => ({
    event(e, report) {
      if (e.id !== layout.EVENT_MODULE_LOAD) return;
      const reasons = untrustedReasons(e);
      if (!reasons.length) return;
      report({
        rule: "untrusted_module",
        severity: ctx.severity(reasons.includes("forced") ? "untrusted_module.forced" : "untrusted_module"),
        techniques: ["T1547.006"],
        description: `module ${e.moduleName ?? "?"} loaded ${reasons.join(", ")}${e.file ? ` from ${e.file}` : ""}`,
        timestamp: e.timestamp,
        evidence: [evidence(e)],
        moduleName: e.moduleName,
        actor: actor(e),
        details: { reasons, taints: Number(e.taints), ...(e.sha256 && { sha256: e.sha256 }) },
      });
    },
  }),
};
