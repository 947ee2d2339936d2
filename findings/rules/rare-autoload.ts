// Rule 12: an unprivileged process making the kernel autoload a module that
// almost no host needs, but that local privilege-escalation exploits load on
// purpose to reach its bugs (rareAutoload in lists.json, with the CVEs).
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";
import { hasContext, privileged } from "./common";

// Callers remembered as reported, per module: the kernel asks for a module
// under several aliases in a row (net-pf-2-proto-33-type-6, net-pf-2-proto-33).
const KEPT = 4096;

export const rareAutoload: RuleUnit = {
  ids: ["rare_autoload"],
  events: [layout.EVENT_MODULE_REQUEST],
  make: (ctx) => {
    const reported = new Set<string>();
    return {
      event(e, report) {
        if (e.id !== layout.EVENT_MODULE_REQUEST || !hasContext(e) || privileged(e)) return;
        const asked = e.strArg;
        if (asked === undefined) return;
        const hit = ctx.config.rareAutoload.find((r) => asked === r.request || asked.startsWith(`${r.request}-`));
        if (!hit) return;
        const key = `${e.hostProcessId} ${hit.module}`;
        if (reported.has(key)) return;
        reported.add(key);
        if (reported.size > KEPT) reported.delete(reported.values().next().value!);
        report({
          rule: "rare_autoload",
          severity: ctx.severity("rare_autoload"),
          techniques: ["T1547.006"],
          description: `${e.processName} (uid ${e.userId}, unprivileged) made the kernel load ${hit.module} (${asked}), a module exploits load: ${hit.cves.join(", ")}`,
          timestamp: e.timestamp,
          evidence: [evidence(e)],
          moduleName: hit.module,
          actor: actor(e),
          details: { request: asked, cves: hit.cves },
        });
      },
    };
  },
};
