// Live patches redirect kernel functions on purpose, through the same ftrace
// machinery rootkits use: a module the kernel registered as a live patch
// (/sys/kernel/livepatch/NAME, and taint K on its /proc/modules line) is
// told apart, so its redirections are reported as what they are (severity
// case "livepatch", info by default) and not as a rootkit's hooks. A rootkit
// could taint itself K too; the livepatch directory is the kernel's own
// record of patches it enabled through klp_enable_patch.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseModuleLine } from "./loaded-modules";

export interface LivepatchViews {
  livepatchDir?: string;
  procModules?: string;
}

/** Whether module is a live patch the kernel enabled. */
export function isLivepatch(module: string, v: LivepatchViews = {}): boolean {
  if (!existsSync(join(v.livepatchDir ?? "/sys/kernel/livepatch", module))) return false;
  try {
    const listed = readFileSync(v.procModules ?? "/proc/modules", "utf8").split("\n").map(parseModuleLine).find((m) => m?.name === module);
    return listed !== undefined && listed.taints.includes("K");
  } catch {
    return false;
  }
}
