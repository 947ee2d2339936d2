// Who made the call and from where: identity, capabilities, namespaces,
// cgroup, container and ancestry, as one block of the structured event and as
// the tail of a text line. The container comes from the cgroup path here, so
// live capture and `read` of a log agree.
import * as L from "./generated/layout";
import * as out from "./output";
import * as s from "./structured";
import * as args from "./args";
import { writeExecutable, writeProcessName } from "./process";
import * as C from "./container";
import * as K from "./keys";
import { strLen, strPtr, strState, u32At, u64At, u8At } from "./record";
import * as utf8 from "./utf8";

const CAP_SYS_MODULE: u64 = 16;
const UNSET: u32 = 0xffffffff; // the kernel's "never set" login uid and session id

/** The record's ancestors (bounded by the layout, whatever the bytes say). */
export function ancestorCount(rec: usize): i32 {
  const n = <i32>u8At(rec, L.REC_OFF_ANCESTOR_COUNT);
  return n < L.ANCESTORS ? n : L.ANCESTORS;
}

function ancestor(rec: usize, i: i32): usize {
  return rec + L.REC_OFF_ANCESTORS + <usize>i * L.ANCESTOR_SIZE;
}

function nameLen(p: usize): i32 {
  let n = 0;
  while (n < L.COMM_LEN && load<u8>(p + n) != 0) n++;
  return n;
}

function hasContext(rec: usize, flag: u32): bool {
  return (u32At(rec, L.REC_OFF_CONTEXT) & flag) != 0;
}

/** Parses the cgroup path into container.ts's results. */
function parseCgroup(rec: usize): void {
  const state = strState(rec, L.SLOT_CGROUP);
  if (state == L.STR_OK || state == L.STR_TRUNCATED) C.parse(strPtr(rec, L.SLOT_CGROUP), strLen(rec, L.SLOT_CGROUP));
  else C.parse(0, 0);
}

/** After parseCgroup(): a recognised container's cgroup, or a process in
 * its own pid and mount namespaces (a container whatever its cgroup). */
function verdict(rec: usize): bool {
  if (C.runtime != C.RUNTIME_NONE) return true;
  return !hasContext(rec, L.CONTEXT_INIT_PID_NS) && !hasContext(rec, L.CONTEXT_INIT_MNT_NS);
}

/** The inContainer verdict, and container.ts's results for this record
 * (none for a record from a log older than the context: in no container). */
export function inContainer(rec: usize): bool {
  if (hasContext(rec, L.CONTEXT_ABSENT)) {
    C.parse(0, 0);
    return false;
  }
  parseCgroup(rec);
  return verdict(rec);
}

function ascii(v: string): void {
  s.beginText(v.length);
  out.ascii(v);
  s.endText();
}

/** The context block (none for a record rebuilt from an older log). */
export function writeContext(rec: usize, clockOffset: i64): void {
  if (hasContext(rec, L.CONTEXT_ABSENT)) return;
  parseCgroup(rec);
  s.key(K.USER_NAMESPACE);
  s.uint(u32At(rec, L.REC_OFF_USER_NS));
  s.key(K.INITIAL_NAMESPACES);
  s.beginMap();
  s.key(K.USER);
  s.boolean(hasContext(rec, L.CONTEXT_INIT_USER_NS));
  s.key(K.PID);
  s.boolean(hasContext(rec, L.CONTEXT_INIT_PID_NS));
  s.key(K.MOUNT);
  s.boolean(hasContext(rec, L.CONTEXT_INIT_MNT_NS));
  s.endMap();
  s.key(K.EFFECTIVE_USER_ID);
  s.uint(u32At(rec, L.REC_OFF_EUID));
  s.key(K.LOGIN_USER_ID);
  s.uint(u32At(rec, L.REC_OFF_LOGINUID));
  s.key(K.SESSION_ID);
  s.uint(u32At(rec, L.REC_OFF_SESSIONID));
  const caps = u64At(rec, L.REC_OFF_CAP_EFFECTIVE);
  s.key(K.CAPABILITIES);
  s.beginMap();
  s.key(K.EFFECTIVE);
  s.uint(caps);
  s.key(K.SYS_MODULE);
  s.boolean(((caps >> CAP_SYS_MODULE) & 1) != 0);
  s.endMap();
  s.key(K.CGROUP);
  s.beginMap();
  s.key(K.PATH);
  args.stringBody(rec, L.SLOT_CGROUP);
  s.endMap();
  if (C.runtime != C.RUNTIME_NONE) {
    s.key(K.CONTAINER);
    s.beginMap();
    s.key(K.ID);
    s.textBytes(C.id, C.idLen);
    s.key(K.RUNTIME);
    ascii(C.runtimeName(C.runtime));
    s.endMap();
  }
  if (C.podUidLen) {
    s.key(K.KUBERNETES);
    s.beginMap();
    s.key(K.POD_UID);
    s.textBytes(C.podUid, C.podUidLen);
    s.endMap();
  }
  s.key(K.IN_CONTAINER);
  s.boolean(verdict(rec));
  const n = ancestorCount(rec);
  s.key(K.ANCESTORS);
  s.beginArray();
  for (let i = 0; i < n; i++) writeAncestor(rec, i, clockOffset);
  s.endArray();
  if (hasContext(rec, L.CONTEXT_ANCESTRY_CUT)) {
    s.key(K.ANCESTRY_CUT);
    s.boolean(true);
  }
}

function writeAncestor(rec: usize, i: i32, clockOffset: i64): void {
  const a = ancestor(rec, i);
  const comm = a + L.ANCESTOR_OFF_COMM;
  const commBytes = nameLen(comm);
  s.beginMap();
  s.key(K.HOST_PROCESS_ID);
  s.uint(load<u32>(a + L.ANCESTOR_OFF_HOST_PID));
  writeProcessName(comm, commBytes);
  s.key(K.START_TIME);
  s.uint(<u64>(<i64>load<u64>(a + L.ANCESTOR_OFF_START_NS) + clockOffset));
  writeExecutable(rec, <usize>(L.SLOT_ANCESTOR_EXE + i));
  s.endMap();
}

/** The text line's tail: "  | chain=a→b→c login=… euid=… ±CAP_SYS_MODULE …". */
export function writeContextText(rec: usize): void {
  if (hasContext(rec, L.CONTEXT_ABSENT)) return;
  out.ascii("  | chain=");
  for (let i = ancestorCount(rec) - 1; i >= 0; i--) {
    const comm = ancestor(rec, i) + L.ANCESTOR_OFF_COMM;
    utf8.writeEscaped(comm, nameLen(comm));
    out.byte(0xe2); // →
    out.byte(0x86);
    out.byte(0x92);
  }
  utf8.writeEscaped(rec + L.REC_OFF_COMM, nameLen(rec + L.REC_OFF_COMM));
  const login = u32At(rec, L.REC_OFF_LOGINUID);
  out.ascii(" login=");
  if (login == UNSET) out.byte(0x2d);
  else {
    out.decimal(login);
    out.ascii(" sess=");
    out.decimal(u32At(rec, L.REC_OFF_SESSIONID));
  }
  out.ascii(" euid=");
  out.decimal(u32At(rec, L.REC_OFF_EUID));
  out.ascii(((u64At(rec, L.REC_OFF_CAP_EFFECTIVE) >> CAP_SYS_MODULE) & 1) != 0 ? " +CAP_SYS_MODULE" : " -CAP_SYS_MODULE");
  if (!hasContext(rec, L.CONTEXT_INIT_USER_NS)) {
    out.ascii(" userns=");
    out.decimal(u32At(rec, L.REC_OFF_USER_NS));
  }
  const contained = inContainer(rec);
  if (C.runtime != C.RUNTIME_NONE) {
    out.ascii(" container=");
    out.ascii(C.runtimeName(C.runtime));
    out.byte(0x3a);
    // Docker's short id: twelve characters.
    utf8.writeEscaped(C.id, C.runtime == C.RUNTIME_NSPAWN || C.idLen < 12 ? C.idLen : 12);
  } else if (contained) out.ascii(" container=?");
  if (C.podUidLen) {
    out.ascii(" pod=");
    utf8.writeEscaped(C.podUid, C.podUidLen);
  }
}
