// Rule 3: a module file from outside the kernel's module directories, and
// worse, from a world-writable or temporary one, a deleted file or a memfd:
// where droppers put what they load. finit_module names the file it was given.
// A path is judged as the path it is only when the kernel's facts agree: one
// cut to its tail (its head could be anything), a file with no name left
// (deleted, O_TMPFILE) or on a mount outside the host's mount namespace (a
// private mount over /lib/modules, a detached one) is unusual whatever it
// looks like.
import * as layout from "../../record/layout";
import { actor, evidence, type RuleContext, type RuleUnit } from "../rule";
import type { EventView } from "../../record/event-view";
import { isMemfd, outcome } from "./common";

/** Why the file is unusual, and whether it is where droppers write; undefined when it is not. */
function judge(e: EventView, file: string, ctx: RuleContext): { where: string; writable: boolean } | undefined {
  const flags = e.flags;
  if (isMemfd(file)) return { where: "from a memfd", writable: true };
  if (flags & layout.FLAG_FILE_UNLINKED || file.endsWith(" (deleted)"))
    return { where: "from a file with no name left (deleted, or an O_TMPFILE)", writable: true };
  if (flags & layout.FLAG_FILE_OTHER_MNT) return { where: "from a mount outside the host's mount namespace", writable: false };
  if (e.fileTruncated) return { where: "from a path too long to record whole (only its tail is known)", writable: false };
  const writable = ctx.config.writableDirs.find((d) => file.startsWith(d));
  if (writable) return { where: `from ${writable}, a world-writable directory`, writable: true };
  if (ctx.config.moduleDirs.some((d) => file.startsWith(d))) return undefined;
  return { where: "from outside the module directories", writable: false };
}

export const unusualLoadPath: RuleUnit = {
  ids: ["unusual_load_path"],
  events: [layout.EVENT_FINIT_MODULE],
  make: (ctx) => ({
    event(e, report) {
      if (e.id !== layout.EVENT_FINIT_MODULE) return;
      const file = e.file;
      if (file === undefined) return;
      const verdict = judge(e, file, ctx);
      if (!verdict) return;
      report({
        rule: "unusual_load_path",
        severity: ctx.severity(verdict.writable ? "unusual_load_path.writable" : "unusual_load_path"),
        techniques: ["T1547.006"],
        description: `${e.processName} loaded ${file} ${verdict.where}${outcome(e)}`,
        timestamp: e.timestamp,
        evidence: [evidence(e)],
        moduleName: e.moduleName,
        actor: actor(e),
        details: { path: file },
      });
    },
  }),
};
