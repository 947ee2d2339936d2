// Rule 13: finit_module's (or kexec_file_load's) fd named another file at the call than the one
// the kernel read (bpf/syscall_record.h, check_read_file()): a racing dup2()
// or a load whose init runs while the caller swaps its fd table, so that the
// path a monitor reads is a decoy. Needs the image hook (the kernel's read is
// seen there); the record's dev and inode are then the file really read.
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";
import { outcome } from "./common";

export const fileSwapped: RuleUnit = {
  ids: ["file_swapped"],
  events: [layout.EVENT_FINIT_MODULE, layout.EVENT_KEXEC_FILE_LOAD],
  make: (ctx) => ({
    event(e, report) {
      if ((e.id !== layout.EVENT_FINIT_MODULE && e.id !== layout.EVENT_KEXEC_FILE_LOAD) || !(e.flags & layout.FLAG_FILE_SWAPPED)) return;
      const dev = e.fileDev;
      const device = `${dev >>> 20}:${dev & 0xfffff}`;
      report({
        rule: "file_swapped",
        severity: ctx.severity("file_swapped"),
        techniques: ["T1547.006", "T1014"],
        description: `${e.processName}'s ${e.eventName} fd named ${e.file ?? "?"}, but the kernel read another file (device ${device}, inode ${e.fileIno})${outcome(e)}`,
        timestamp: e.timestamp,
        evidence: [evidence(e)],
        moduleName: e.moduleName,
        actor: actor(e),
        details: { pathAtCall: e.file ?? "", readDevice: device, readInode: String(e.fileIno) },
      });
    },
  }),
};
