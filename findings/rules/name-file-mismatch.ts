// Rule 11: a module whose name is not its file's: modprobe resolves aliases
// to files named after their modules, so a mismatch is a renamed file (a
// rootkit posing as a driver) or a file loaded through an odd route.
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";
import { isMemfd, moduleOfFile } from "./common";

export const nameFileMismatch: RuleUnit = {
  ids: ["name_file_mismatch"],
  events: [layout.EVENT_MODULE_LOAD],
  make: (ctx) => ({
    event(e, report) {
      if (e.id !== layout.EVENT_MODULE_LOAD) return;
      const file = e.file;
      const name = e.moduleName;
      // A memfd's name is whatever its creator chose (unusual_load_path reports the memfd).
      if (!file || !name || isMemfd(file) || moduleOfFile(file) === name.replaceAll("-", "_")) return;
      report({
        rule: "name_file_mismatch",
        severity: ctx.severity("name_file_mismatch"),
        techniques: ["T1014"],
        description: `module ${name} came from a file named for another: ${file}`,
        timestamp: e.timestamp,
        evidence: [evidence(e)],
        moduleName: name,
        actor: actor(e),
        details: { path: file },
      });
    },
  }),
};
