// The caller's context of an event map back into its record
// (writeContextFields' rules, record/context-record.ts), and what the decoder
// derives from it again: a map whose container, kubernetes pod or
// inContainer verdict is not what the record's cgroup and namespaces give
// (a forged log's), or that has context fields but no ancestors (which
// writeContextFields then ignores), is left to TypeScript, so that a reader
// judging by the record (stats' containers, logins, chains) reads what the
// map said.
import * as L from "./generated/layout";
import * as K from "./keys";
import * as R from "./cbor-in";
import * as C from "./container";
import { inContainer } from "./context";
import { Built, comm, commFits, intAt, mapEntries, slotOfMap, strictU32At } from "./rebuild-values";

const NAMESPACES: StaticArray<usize> = [K.USER, K.PID, K.MOUNT];
const NAMESPACE_FLAGS: StaticArray<u32> = [L.CONTEXT_INIT_USER_NS, L.CONTEXT_INIT_PID_NS, L.CONTEXT_INIT_MNT_NS];
const CONTEXT_U32: StaticArray<i32> = [K.FIELD_USER_NAMESPACE, K.FIELD_EFFECTIVE_USER_ID, K.FIELD_LOGIN_USER_ID, K.FIELD_SESSION_ID];
const CONTEXT_U32_OFFSETS: StaticArray<usize> = [L.REC_OFF_USER_NS, L.REC_OFF_EUID, L.REC_OFF_LOGINUID, L.REC_OFF_SESSIONID];
const ANCESTOR_KEYS: StaticArray<usize> = [K.HOST_PROCESS_ID, K.PROCESS_NAME, K.PROCESS_NAME_RAW, K.START_TIME, K.EXECUTABLE];
const CAPABILITY_KEYS: StaticArray<usize> = [K.EFFECTIVE, K.SYS_MODULE];
const found = new StaticArray<usize>(5);

/** The context flags (writeContextFields'), or -1. */
export function writeContext(at: StaticArray<usize>): i32 {
  const out = Built.out;
  if (!at[K.FIELD_ANCESTORS]) {
    for (let i = 0; i < CONTEXT_FIELDS.length; i++) if (at[CONTEXT_FIELDS[i]]) return -1;
    return L.CONTEXT_ABSENT;
  }
  let flags: u32 = 0;
  if (!mapEntries(at[K.FIELD_INITIAL_NAMESPACES], NAMESPACES, found)) return -1;
  for (let i = 0; i < NAMESPACES.length; i++) {
    R.seek(found[i]);
    if (!found[i] || !R.head() || R.major != 7 || R.info == 22) return -1;
    if (R.info == 21) flags |= NAMESPACE_FLAGS[i];
  }
  const cut = at[K.FIELD_ANCESTRY_CUT];
  if (cut) {
    R.seek(cut);
    if (!R.head() || R.major != 7) return -1;
    if (R.info == 21) flags |= L.CONTEXT_ANCESTRY_CUT;
  }
  for (let i = 0; i < CONTEXT_U32.length; i++) {
    // Whole u32s: a reader prints the login uid from the record.
    if (!strictU32At(at[CONTEXT_U32[i]])) return -1;
    store<u32>(out + CONTEXT_U32_OFFSETS[i], <u32>Built.int);
  }
  if (!mapEntries(at[K.FIELD_CAPABILITIES], CAPABILITY_KEYS, found) || !intAt(found[0])) return -1;
  store<u64>(out + L.REC_OFF_CAP_EFFECTIVE, Built.int);
  if (!slotOfMap(L.SLOT_CGROUP, at[K.FIELD_CGROUP])) return -1;
  const n = R.items(at[K.FIELD_ANCESTORS], L.ANCESTORS, ancestors);
  if (n < 0) return -1;
  for (let i = 0; i < n; i++) {
    if (!mapEntries(ancestors[i], ANCESTOR_KEYS, found)) return -1;
    const rec = out + L.REC_OFF_ANCESTORS + i * L.ANCESTOR_SIZE;
    if (!intAt(found[0])) return -1;
    store<u32>(rec + L.ANCESTOR_OFF_HOST_PID, <u32>Built.int);
    if (!intAt(found[3])) return -1;
    store<u64>(rec + L.ANCESTOR_OFF_START_NS, Built.int);
    const exe = found[4];
    // Its name as the map says it, whole (a reader chains the names from the record).
    if (found[2] || !commFits(found[1]) || !comm(rec - out + L.ANCESTOR_OFF_COMM, 0, found[1])) return -1;
    if (!slotOfMap(L.SLOT_ANCESTOR_EXE + i, exe)) return -1;
  }
  store<u8>(out + L.REC_OFF_ANCESTOR_COUNT, n);
  store<u32>(out + L.REC_OFF_CONTEXT, flags);
  return derivedAgree(at) ? flags : -1;
}

const ancestors = new StaticArray<usize>(L.ANCESTORS);
const CONTEXT_FIELDS: StaticArray<i32> = [
  K.FIELD_USER_NAMESPACE, K.FIELD_INITIAL_NAMESPACES, K.FIELD_EFFECTIVE_USER_ID, K.FIELD_LOGIN_USER_ID, K.FIELD_SESSION_ID,
  K.FIELD_CAPABILITIES, K.FIELD_CGROUP, K.FIELD_CONTAINER, K.FIELD_KUBERNETES, K.FIELD_IN_CONTAINER, K.FIELD_ANCESTRY_CUT,
];

/** Whether each field of the table is one writeContext() reads. */
export const IS_CONTEXT = new StaticArray<bool>(K.FIELD_KEYS.length);
for (let i = 0; i < CONTEXT_FIELDS.length; i++) IS_CONTEXT[CONTEXT_FIELDS[i]] = true;
IS_CONTEXT[K.FIELD_ANCESTORS] = true;
const CONTAINER_KEYS: StaticArray<usize> = [K.ID, K.RUNTIME];
const POD_KEYS: StaticArray<usize> = [K.POD_UID];
const entries = new StaticArray<usize>(2);

/** Whether the text at pos is the n bytes at bytes. */
function textIs(pos: usize, bytes: usize, n: i32): bool {
  if (!pos) return false;
  R.seek(pos);
  const text = R.text();
  return !R.bad() && R.arg == <u64>n && memory.compare(text, bytes, n) == 0;
}

/** The container, pod and inContainer verdict the decoder derives from the
 * record (its cgroup path, its namespaces), against what the map says. */
function derivedAgree(at: StaticArray<usize>): bool {
  const inside = inContainer(Built.out);
  if (C.runtime != C.RUNTIME_NONE) {
    if (!mapEntries(at[K.FIELD_CONTAINER], CONTAINER_KEYS, entries) || !textIs(entries[0], C.id, C.idLen)) return false;
    const name = C.runtimeName(C.runtime);
    R.seek(entries[1]);
    const runtime = R.text();
    if (R.bad() || !R.spells(runtime, <usize>R.arg, name)) return false;
  } else if (at[K.FIELD_CONTAINER]) return false;
  if (C.podUidLen) {
    if (!mapEntries(at[K.FIELD_KUBERNETES], POD_KEYS, entries) || !textIs(entries[0], C.podUid, C.podUidLen)) return false;
  } else if (at[K.FIELD_KUBERNETES]) return false;
  const verdict = at[K.FIELD_IN_CONTAINER];
  R.seek(verdict);
  return verdict != 0 && R.head() && R.major == 7 && R.info == (inside ? 21 : 20);
}

