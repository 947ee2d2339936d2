// Rule 17: a kernel staged by kexec_load or kexec_file_load, to run in place
// of this one at the next reboot (or, KEXEC_ON_CRASH, at the next panic):
// code of the caller's choosing as the kernel, with none of this kernel's
// modules, hooks or monitors. Hosts do it for crash dumps (kdump's service
// runs kexec-tools at boot) and fast reboots (`systemctl kexec`), both
// through kexec-tools with a kernel from /boot: that is low; anything else
// is high. Unstaging (no segments, KEXEC_FILE_UNLOAD) and failed calls,
// anyone's to make, are not findings.
import * as layout from "../../record/layout";
import type { EventView } from "../../record/event-view";
import { actor, evidence, type RuleContext, type RuleUnit } from "../rule";

// include/uapi/linux/kexec.h
const KEXEC_ON_CRASH = 1n;
const KEXEC_FILE_UNLOAD = 1n;
const KEXEC_FILE_ON_CRASH = 2n;
const FILE_DOUBTS = layout.FLAG_FILE_UNLINKED | layout.FLAG_FILE_OTHER_MNT | layout.FLAG_FILE_SWAPPED;

/** Why a successful staging is not the known path, or undefined when it is. */
function unknownBecause(e: EventView, ctx: RuleContext): string | undefined {
  const exe = e.executablePath;
  if (exe === undefined || !ctx.config.kexecTools.includes(exe)) return `${exe ?? `'${e.processName}' (executable unknown)`} is not kexec-tools`;
  if (e.id !== layout.EVENT_KEXEC_FILE_LOAD) return undefined;
  const file = e.file;
  if (file === undefined || e.fileTruncated || e.flags & FILE_DOUBTS) return "the kernel file is not a plain file in the host's mounts";
  if (!ctx.config.kernelDirs.some((d) => file.startsWith(d))) return `${file} is outside ${ctx.config.kernelDirs.join(", ")}`;
  return undefined;
}

export const kernelStaged: RuleUnit = {
  ids: ["kernel_staged"],
  events: [layout.EVENT_KEXEC_LOAD, layout.EVENT_KEXEC_FILE_LOAD],
  make: (ctx) => ({
    event(e, report) {
      const file = e.id === layout.EVENT_KEXEC_FILE_LOAD;
      if ((!file && e.id !== layout.EVENT_KEXEC_LOAD) || e.returnValue !== 0) return;
      const flags = e.arg(2);
      if (file ? flags & KEXEC_FILE_UNLOAD : e.arg(1) === 0n) return; // unstaged
      const crash = (flags & (file ? KEXEC_FILE_ON_CRASH : KEXEC_ON_CRASH)) !== 0n;
      const why = unknownBecause(e, ctx);
      const what = file ? `the kernel in ${e.file ?? "an unnamed file"}${e.sha256 ? ` (sha256 ${e.sha256})` : ""}` : "a kernel from its own memory";
      report({
        rule: "kernel_staged",
        severity: ctx.severity(why ? "kernel_staged" : "kernel_staged.known"),
        techniques: ["T1014", "T1542"],
        description: `${e.executablePath ?? e.processName} staged ${what} to run in place of this one at the next ${crash ? "crash" : "reboot"} (${e.eventName})${why ? `: ${why}` : ""}`,
        timestamp: e.timestamp,
        evidence: [evidence(e)],
        actor: actor(e),
        details: {
          executable: e.executablePath ?? "",
          crashKernel: crash,
          ...(file && { path: e.file ?? "", cmdline: e.strArg ?? "" }),
          ...(e.sha256 && { sha256: e.sha256 }),
          ...(why && { unknownBecause: why }),
        },
      });
    },
  }),
};
