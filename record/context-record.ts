// The caller's context of an event map (identity, namespaces, cgroup,
// ancestry: decoder/assembly/context.ts writes it) back into its record. The
// container and the inContainer verdict are not stored: the decoder derives
// them again from the cgroup path and the namespace flags.
import * as layout from "./layout";
import type { LoggedEvent } from "./generated/event";
import type { RecordSource } from "./record-source";

export interface RecordWriter {
  u8(off: number, v: number): void;
  u32(off: number, v: unknown, what: string): void;
  u64(off: number, v: unknown, what: string): void;
  /** A command name: its exact bytes (raw) where given, else its text. */
  comm(off: number, raw: unknown, name: unknown): void;
  /** A string slot: its value, and the map beside it ({truncated, error, raw}). */
  slot(index: number, value: unknown, extras: any, what: string): void;
  fail(message: string): never;
}

/** The names an ancestor's fields go by in errors, made once. */
const ANCESTOR_WHAT = Array.from({ length: layout.ANCESTORS }, (_, i) => ({
  pid: `ancestors[${i}].hostProcessId`,
  start: `ancestors[${i}].startTime`,
  exe: `ancestors[${i}].executable.path`,
}));

const NAMESPACE_FLAGS: [keyof NonNullable<LoggedEvent["initialNamespaces"]>, number][] = [
  ["user", layout.CONTEXT_INIT_USER_NS],
  ["pid", layout.CONTEXT_INIT_PID_NS],
  ["mount", layout.CONTEXT_INIT_MNT_NS],
];

/** The context flags; an event from a log older than layout 4 has none. */
export function writeContextFields(e: RecordSource, w: RecordWriter): number {
  if (e.ancestors === undefined) return layout.CONTEXT_ABSENT;
  let flags = 0;
  for (const [name, flag] of NAMESPACE_FLAGS) {
    const v = e.initialNamespaces?.[name];
    if (typeof v !== "boolean") w.fail(`initialNamespaces.${name} is not a boolean`);
    if (v) flags |= flag;
  }
  if (e.ancestryCut === true) flags |= layout.CONTEXT_ANCESTRY_CUT;
  w.u32(layout.REC_OFF_USER_NS, e.userNamespace, "userNamespace");
  w.u32(layout.REC_OFF_EUID, e.effectiveUserId, "effectiveUserId");
  w.u32(layout.REC_OFF_LOGINUID, e.loginUserId, "loginUserId");
  w.u32(layout.REC_OFF_SESSIONID, e.sessionId, "sessionId");
  w.u64(layout.REC_OFF_CAP_EFFECTIVE, e.capabilities?.effective, "capabilities.effective");
  w.slot(layout.SLOT_CGROUP, e.cgroup?.path, e.cgroup, "cgroup.path");
  if (!Array.isArray(e.ancestors) || e.ancestors.length > layout.ANCESTORS) w.fail(`ancestors is not a list of at most ${layout.ANCESTORS}`);
  for (let i = 0; i < e.ancestors.length; i++) {
    const a = e.ancestors[i];
    const at = layout.REC_OFF_ANCESTORS + i * layout.ANCESTOR_SIZE;
    w.u32(at + layout.ANCESTOR_OFF_HOST_PID, a?.hostProcessId, ANCESTOR_WHAT[i].pid);
    w.u64(at + layout.ANCESTOR_OFF_START_NS, a?.startTime, ANCESTOR_WHAT[i].start);
    w.comm(at + layout.ANCESTOR_OFF_COMM, a.processNameRaw, a.processName);
    w.slot(layout.SLOT_ANCESTOR_EXE + i, a.executable?.path, a.executable, ANCESTOR_WHAT[i].exe);
  }
  w.u8(layout.REC_OFF_ANCESTOR_COUNT, e.ancestors.length);
  return flags;
}
