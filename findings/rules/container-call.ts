// Rule 7: module syscalls from a container or from a user namespace other
// than the host's. A container has no business changing the host's kernel,
// and one allowed to (privileged, CAP_SYS_MODULE) is an escape route.
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";
import { hasContext, isLoadCall, outcome } from "./common";

// The verdict depends on the cgroup and the namespace flags only: remembered
// per cgroup, so a flood of calls from one place asks the decoder once.
const KEPT = 4096;

export const containerCall: RuleUnit = {
  ids: ["module_call_from_container"],
  events: [layout.EVENT_INIT_MODULE, layout.EVENT_FINIT_MODULE, layout.EVENT_DELETE_MODULE],
  make: (ctx) => {
    const verdicts = new Map<number, ReturnType<typeof ctx.container>>();
    const containerOf = (e: Parameters<typeof ctx.container>[0]) => {
      const key = e.cgroupId * 8 + (e.context & (layout.CONTEXT_INIT_PID_NS | layout.CONTEXT_INIT_MNT_NS));
      if (verdicts.has(key)) return verdicts.get(key);
      if (verdicts.size >= KEPT) verdicts.clear();
      const verdict = ctx.container(e);
      verdicts.set(key, verdict);
      return verdict;
    };
    return {
      event(e, report) {
        if (!isLoadCall(e) && e.id !== layout.EVENT_DELETE_MODULE) return;
        if (!hasContext(e)) return; // a log from before the context: nothing to judge by
        const container = containerOf(e);
        const foreignUserNs = (e.context & layout.CONTEXT_INIT_USER_NS) === 0;
        if (!container && !foreignUserNs) return;
        const where = container
          ? container.runtime ? `container ${container.runtime}:${container.id.slice(0, 12)}` : "a container (own pid and mount namespaces)"
          : `user namespace ${e.userNamespace}, not the host's`;
        const changed = e.returnValue === 0 && isLoadCall(e);
        report({
          rule: "module_call_from_container",
          severity: ctx.severity(changed ? "module_call_from_container.loaded" : "module_call_from_container"),
          techniques: ["T1547.006"],
          description: `${e.eventName} from ${where} by ${e.processName}${outcome(e)}`,
          timestamp: e.timestamp,
          evidence: [evidence(e)],
          moduleName: e.moduleName ?? e.strArg,
          actor: actor(e),
          details: {
            ...(container && { containerRuntime: container.runtime, containerId: container.id }),
            initialUserNamespace: !foreignUserNs,
          },
        });
      },
    };
  },
};
