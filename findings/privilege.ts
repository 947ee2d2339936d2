// Severity that follows privilege: a finding about a call that failed for
// lack of privilege (rules/common.ts failedUnprivileged) is at most low,
// whatever its rule would say of the same call by root. Otherwise anyone
// could raise high findings, trip --fail-on high and bury the real ones, by
// failing on purpose (delete_module("lkrg") by nobody is no unload).
import type { EventView } from "../record/event-view";
import { severityRank, type Finding, type Severity } from "./finding";
import { failedUnprivileged } from "./rules/common";

export const UNPRIVILEGED_CEILING: Severity = "low";

/** f as it stands when it rests on e: lowered to the ceiling, saying so, when e failed unprivileged. */
export function capForPrivilege(f: Finding, e: EventView): Finding {
  if (severityRank(f.severity) <= severityRank(UNPRIVILEGED_CEILING) || !failedUnprivileged(e)) return f;
  return {
    ...f,
    severity: UNPRIVILEGED_CEILING,
    description: `${f.description}; failed without privilege, so ${UNPRIVILEGED_CEILING} (the rule says ${f.severity} for a privileged call)`,
    details: { ...f.details, severityIfPrivileged: f.severity },
  };
}
