// Rule 3: a module file from outside the kernel's module directories, and
// worse, from a world-writable or temporary one, a deleted file or a memfd:
// where droppers put what they load. finit_module names the file it was given.
import * as layout from "../../../decoder/assembly/generated/layout";
import { actor, evidence, type RuleFactory } from "../rule";
import { isMemfd, outcome } from "./common";

export const unusualLoadPath: RuleFactory = (ctx) => ({
  ids: ["unusual_load_path"],
  event(e, report) {
    if (e.id !== layout.EVENT_FINIT_MODULE) return;
    const file = e.file;
    if (file === undefined) return;
    const memfd = isMemfd(file);
    const deleted = file.endsWith(" (deleted)");
    const writable = ctx.config.writableDirs.find((d) => file.startsWith(d));
    const inModuleDir = ctx.config.moduleDirs.some((d) => file.startsWith(d));
    if (inModuleDir && !memfd && !deleted) return;
    const where = memfd ? "from a memfd" : deleted ? "from a deleted file" : writable ? `from ${writable}, a world-writable directory` : "from outside the module directories";
    report({
      rule: "unusual_load_path",
      severity: ctx.severity(memfd || deleted || writable ? "unusual_load_path.writable" : "unusual_load_path"),
      techniques: ["T1547.006"],
      description: `${e.comm} loaded ${file} ${where}${outcome(e)}`,
      timestamp: e.timestamp,
      evidence: [evidence(e)],
      moduleName: e.module,
      actor: actor(e),
      details: { path: file },
    });
  },
});
