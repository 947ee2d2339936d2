// Rule 9: many failed module calls from one user within a window: probing
// for privilege (EPERM: no CAP_SYS_MODULE), for a module name, or trying
// images until one loads (ENOEXEC, EKEYREJECTED). One finding per window,
// with counts, when it closes: by the events' clock, so a log replayed gives
// the same finding as the capture did.
import * as layout from "../../record/layout";
import { evidence, type Report, type RuleUnit } from "../rule";
import type { Evidence } from "../finding";
import { errnoName, privileged } from "./common";

const BAD_IMAGE = new Set(["ENOEXEC", "EKEYREJECTED", "EBADMSG", "ENOKEY", "EBADF"]);
const EVIDENCE_KEPT = 10;

interface Window {
  start: bigint;
  end: bigint; // start + the window
  last: bigint;
  failures: number;
  byErrno: Record<string, number>;
  byProcess: Map<number, string>;
  unprivileged: boolean;
  evidence: Evidence[];
}

export const probing: RuleUnit = {
  ids: ["probing"],
  events: [layout.EVENT_INIT_MODULE, layout.EVENT_FINIT_MODULE, layout.EVENT_DELETE_MODULE],
  make: (ctx) => {
    const { failures: threshold, windowSeconds } = ctx.config.probing;
    const windowNs = BigInt(Math.round(windowSeconds * 1e9));
    const open = new Map<number, Window>(); // by uid

    const finish = (uid: number, w: Window, report: Report) => {
      open.delete(uid);
      if (w.failures < threshold) return;
      const errnos = Object.keys(w.byErrno);
      const severity = w.unprivileged ? "probing.unprivileged" : errnos.some((n) => BAD_IMAGE.has(n)) ? "probing.bad_images" : "probing";
      const counts = Object.entries(w.byErrno).map(([n, c]) => `${c} ${n}`).join(", ");
      const cut = w.failures > w.evidence.length ? `; evidence: the first ${w.evidence.length} of the ${w.failures} calls` : "";
      report({
        rule: "probing",
        severity: ctx.severity(severity),
        techniques: ["T1547.006"],
        description: `uid ${uid}: ${w.failures} failed module calls within ${(Number(w.last - w.start) / 1e9).toFixed(3)} s (${counts}) from ${[...w.byProcess.values()].slice(0, 5).join(", ")}${cut}`,
        timestamp: w.last,
        evidence: w.evidence,
        details: { userId: uid, failures: w.failures, errnos: w.byErrno, processes: w.byProcess.size, evidenceKept: w.evidence.length },
      });
    };

    return {
      event(e, report) {
        if (e.returnValue >= 0 || (e.id !== layout.EVENT_INIT_MODULE && e.id !== layout.EVENT_FINIT_MODULE && e.id !== layout.EVENT_DELETE_MODULE)) return;
        let w = open.get(e.userId);
        if (!w) {
          w = { start: e.timestamp, end: e.timestamp + windowNs, last: e.timestamp, failures: 0, byErrno: {}, byProcess: new Map(), unprivileged: false, evidence: [] };
          open.set(e.userId, w);
        }
        const errno = errnoName(e.returnValue);
        w.failures++;
        w.last = e.timestamp;
        w.byErrno[errno] = (w.byErrno[errno] ?? 0) + 1;
        const pid = e.hostProcessId;
        if (w.byProcess.size < 100 && !w.byProcess.has(pid)) w.byProcess.set(pid, `${e.processName}[${pid}]`);
        if (!w.unprivileged && !privileged(e)) w.unprivileged = true;
        if (w.evidence.length < EVIDENCE_KEPT) w.evidence.push(evidence(e));
      },
      close(nowNs, report) {
        if (open.size === 0) return;
        for (const [uid, w] of open) if (nowNs === undefined || nowNs > w.end) finish(uid, w, report);
      },
    };
  },
};
