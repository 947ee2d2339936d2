// The caller's context of an event map (identity, namespaces, cgroup,
// ancestry: decoder/assembly/context.ts writes it) back into its record. The
// container and the inContainer verdict are not stored: the decoder derives
// them again from the cgroup path and the namespace flags.
import * as layout from "../../decoder/assembly/generated/layout";

export interface RecordWriter {
  u8(off: number, v: number): void;
  u32(off: number, v: unknown, what: string): void;
  u64(off: number, v: unknown, what: string): void;
  bytes(off: number, b: Uint8Array): void;
  /** A string slot from a {value, truncated, error, raw} map. */
  slot(index: number, field: any, what: string): void;
  fail(message: string): never;
}

const NAMESPACE_FLAGS: [string, number][] = [
  ["user", layout.CONTEXT_INIT_USER_NS],
  ["pid", layout.CONTEXT_INIT_PID_NS],
  ["mount", layout.CONTEXT_INIT_MNT_NS],
];

/** The context flags; an event from a log older than layout 4 has none. */
export function writeContextFields(e: any, w: RecordWriter): number {
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
  w.slot(layout.SLOT_CGROUP, { value: e.cgroup?.path, ...e.cgroup }, "cgroup.path");
  if (!Array.isArray(e.ancestors) || e.ancestors.length > layout.ANCESTORS) w.fail(`ancestors is not a list of at most ${layout.ANCESTORS}`);
  e.ancestors.forEach((a: any, i: number) => {
    const at = layout.REC_OFF_ANCESTORS + i * layout.ANCESTOR_SIZE;
    w.u32(at + layout.ANCESTOR_OFF_HOST_PID, a?.hostProcessId, `ancestors[${i}].hostProcessId`);
    w.u64(at + layout.ANCESTOR_OFF_START_NS, a?.startTime, `ancestors[${i}].startTime`);
    const comm = a.processNameRaw instanceof Uint8Array ? a.processNameRaw : Buffer.from(String(a.processName ?? ""), "utf8");
    w.bytes(at + layout.ANCESTOR_OFF_COMM, comm.subarray(0, layout.COMM_LEN - 1));
    w.slot(layout.SLOT_ANCESTOR_EXE + i, { value: a.executable?.path, ...a.executable }, `ancestors[${i}].executable.path`);
  });
  w.u8(layout.REC_OFF_ANCESTOR_COUNT, e.ancestors.length);
  return flags;
}
