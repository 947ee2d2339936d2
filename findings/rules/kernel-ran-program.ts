// Rule 16: a program the kernel ran as root of its own accord
// (call_usermodehelper) that is not one a kernel runs normally. For an
// autoload request the kernel runs modprobe_path; pointing it at a program
// of one's own (an exploit's write, or root's sysctl) turns any process's
// socket() or exec of an unknown format into root code execution, and the
// path can be put back before any look at modprobe_path. Other helpers
// carry the same risk: a core_pattern pipe, a cgroup v1 release_agent (the
// container escape of CVE-2022-0492), the uevent helper.
//
// The program is the file that runs (the executable, after every symlink),
// so a stock path replaced by a link to another program is seen; for a
// script, the script (its interpreter, busybox's sh say, proves nothing).
// The request a helper answers may reach the rule after the helper's exec
// (a log of a modtrace that sent the two to different rings, or a lost
// request): a helper waits for it up to WAIT_NS.
import * as layout from "../../record/layout";
import type { EventView } from "../../record/event-view";
import type { Finding } from "../finding";
import { actor, evidence, type Report, type RuleUnit } from "../rule";

// The kernel's own argv for an autoload (kernel/module/kmod.c):
// modprobe_path, "-q", "--", the name; a script's interpreter comes first.
const AUTOLOAD_ARGV = /(?:^|\s)-q -- (\S+)$/;
const WAIT_NS = 2_000_000_000n;
// Requests (and helpers waiting for theirs) remembered at most.
const KEPT = 256;

interface Request {
  e: ReturnType<typeof evidence>;
  actor: NonNullable<ReturnType<typeof actor>>;
}

interface Ran {
  timestamp: bigint;
  asked: string | undefined;
  finding(request: Request | undefined): Finding;
}

export const kernelRanProgram: RuleUnit = {
  ids: ["kernel_ran_program"],
  events: [layout.EVENT_MODULE_REQUEST, layout.EVENT_CALL_USERMODEHELPER],
  make: (ctx) => {
    const requests = new Map<string, Request>();
    const waiting: Ran[] = [];
    const known = (program: string) => ctx.config.kernelHelpers.includes(program);
    const tool = (program: string) => ctx.isModuleTool(program) || ctx.config.modprobePaths.includes(program);

    /** The finding of a helper, once its request is known (or given up on). */
    const ran = (e: EventView, asked: string | undefined, program: string): Ran => {
      const argv = e.strArg ?? "";
      const pathname = e.file ?? "";
      const exe = e.executablePath ?? "";
      const helper = evidence(e);
      const helperActor = actor(e);
      const sha256 = e.sha256;
      const what = program === exe ? program : `${program} (run by ${exe})`;
      const hash = sha256 ? `, sha256 ${sha256}` : "";
      return {
        timestamp: e.timestamp,
        asked,
        finding: (request) => ({
          rule: "kernel_ran_program",
          severity: ctx.severity(asked !== undefined ? "kernel_ran_program.autoload" : "kernel_ran_program"),
          techniques: asked !== undefined ? ["T1547.006", "T1068"] : ["T1611", "T1068"],
          description: `the kernel ran ${what}${hash} as root ${
            asked !== undefined
              ? `for an autoload request (${asked}${request ? `, made by ${request.actor.processName} pid ${request.actor.hostProcessId} uid ${request.actor.userId}` : ""}), and it is no module tool: modprobe_path named it when the request came`
              : `(${argv}), and it is no helper a kernel runs normally (kernelHelpers in lists.json): a core_pattern pipe, cgroup release_agent or uevent helper set to it`
          }`,
          timestamp: helper.timestamp,
          evidence: [...(request ? [request.e] : []), helper],
          actor: request?.actor ?? helperActor,
          details: { pathname, argv, executable: exe, ...(sha256 && { sha256 }), ...(asked !== undefined && { request: asked }) },
        }),
      };
    };

    /** Helpers whose request came in, or whose wait is over (nowNs undefined: the input ended). */
    const settle = (nowNs: bigint | undefined, report: Report) => {
      for (let i = 0; i < waiting.length; ) {
        const w = waiting[i];
        const request = w.asked !== undefined ? requests.get(w.asked) : undefined;
        if (request || w.asked === undefined || nowNs === undefined || nowNs > w.timestamp + WAIT_NS || waiting.length > KEPT) {
          if (request) requests.delete(w.asked!);
          waiting.splice(i, 1);
          report(w.finding(request));
        } else i++;
      }
    };

    return {
      event(e: EventView, report) {
        if (e.id === layout.EVENT_MODULE_REQUEST) {
          const name = e.strArg;
          if (name === undefined) return;
          requests.delete(name);
          requests.set(name, { e: evidence(e), actor: actor(e)! });
          if (requests.size > KEPT) requests.delete(requests.keys().next().value!);
          if (waiting.length) settle(e.timestamp, report);
          return;
        }
        if (e.id !== layout.EVENT_CALL_USERMODEHELPER) return;
        const argv = e.strArg ?? "";
        // A script: the kernel put its interpreter before it in argv.
        const script = e.file !== undefined && argv.split(" ", 1)[0] !== e.file;
        const program = script ? e.file! : (e.executablePath ?? e.file ?? "?");
        const asked = AUTOLOAD_ARGV.exec(argv)?.[1];
        if (asked !== undefined ? tool(program) : tool(program) || known(program)) return;
        waiting.push(ran(e, asked, program));
        settle(e.timestamp, report);
      },
      close(nowNs, report) {
        if (waiting.length) settle(nowNs, report);
      },
    };
  },
};
