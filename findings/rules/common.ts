// Facts about a caller that several rules weigh.
import * as layout from "../../record/layout";
import type { EventView } from "../../record/event-view";

import { errnoName } from "../../record/errno";

export { errnoName };

const CAP_SYS_MODULE = 16n; // include/uapi/linux/capability.h

/** Does the event carry the caller's context (logs before layout 4 do not)? */
export function hasContext(e: EventView): boolean {
  return (e.context & layout.CONTEXT_ABSENT) === 0;
}

/** May the caller load modules: CAP_SYS_MODULE, in the initial user namespace. */
export function privileged(e: EventView): boolean {
  return ((e.capabilitiesEffective >> CAP_SYS_MODULE) & 1n) === 1n && (e.context & layout.CONTEXT_INIT_USER_NS) !== 0;
}

const EPERM = 1;

/** A module syscall that failed and whose caller could not have made it
 * succeed: refused for privilege (EPERM: lockdown, modules_disabled, a
 * missing capability), or made without CAP_SYS_MODULE in the host's user
 * namespace. Anyone can make such calls by the thousand, so they say
 * nothing of what was done to the kernel. A log without the caller context
 * is judged by EPERM alone. */
export function failedUnprivileged(e: EventView): boolean {
  if (e.returnValue >= 0 || (!isLoadCall(e) && e.id !== layout.EVENT_DELETE_MODULE)) return false;
  return e.returnValue === -EPERM || (hasContext(e) && !privileged(e));
}

export function isLoadCall(e: EventView): boolean {
  return e.id === layout.EVENT_INIT_MODULE || e.id === layout.EVENT_FINIT_MODULE;
}

/** " (failed: EEXIST)" for a failed call, "" for a successful one. */
export function outcome(e: EventView): string {
  return e.returnValue < 0 ? ` (failed: ${errnoName(e.returnValue)})` : "";
}

/** The module a file holds by its name: its base name without .ko and a
 * compression suffix, '-' read as '_' (as kmod does). */
export function moduleOfFile(path: string): string {
  const base = path.replace(/ \(deleted\)$/, "").split("/").pop() ?? "";
  return base.replace(/\.ko(\.(xz|gz|zst))?$/, "").replaceAll("-", "_");
}

/** A memfd's path: "memfd:NAME" as the kernel names it, "/memfd:NAME (deleted)" as d_path shows it. */
export function isMemfd(path: string): boolean {
  return /^\/?memfd:/.test(path);
}
