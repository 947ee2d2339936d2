// An event map of a log, in CBOR, straight back into its kernel record
// (struct mt_record): `read` and `findings` get the record the decoder reads
// without building the map in JavaScript first. The rules are
// record/records.ts's writeRecord, which stays the judge: this side takes
// only maps it can rebuild exactly as writeRecord would (the shapes of
// cbor-in.ts, keys of the field table each once, values of the types the
// rebuild reads, strings in ASCII) and leaves every other item, damaged or
// merely unusual, to it (REBUILD_NOT_HANDLED).
//
// A record it builds also reads back as its map said: the readers that judge
// an event by its record (stats, read's filters) get the map's own timestamp,
// pid, command name, return value and errno name, argument strings and
// callId. A map where the record would say otherwise (a forged log's
// returnError that is not its returnValue's, a command name longer than the
// kernel keeps, raw bytes beside a string) is left to writeRecord too.
import * as L from "./generated/layout";
import * as C from "./generated/catalogue";
import * as K from "./keys";
import * as R from "./cbor-in";
import * as T from "./image-texts";
import { errnoPiece, eventNamePiece, hookNamePiece } from "./events";
import * as P from "./pieces";
import { readArgs } from "./rebuild-args";
import { Built, comm, commFits, intAt, recordFieldAt, slot, slotOfMap, strictU32At } from "./rebuild-values";
import { writeContext } from "./rebuild-context";
import * as Memo from "./rebuild-memo";
import { nameMismatch } from "./record";

export const REBUILD_NOT_HANDLED: i32 = -1;

const FIELDS = K.FIELD_KEYS.length;
/** Where each top-level field's value starts in the item; 0: absent. */
const at = new StaticArray<usize>(FIELDS);

/** The field whose key is at the cursor (then passed), trying `guess` (the
 * one after the last) first: maps come in one order. -1: no field's. */
function fieldOf(guess: i32): i32 {
  if (guess < FIELDS && R.takes(K.FIELD_KEYS[guess])) return guess;
  for (let f = 0; f < FIELDS; f++) if (R.takes(K.FIELD_KEYS[f])) return f;
  return -1;
}

/** Rebuilds the event map at src (len bytes available from there) into
 * Built.out; the map's length in bytes, or REBUILD_NOT_HANDLED. */
export function rebuild(src: usize, len: usize): i32 {
  R.start(src, len);
  if (!R.head() || R.major != 5) return REBUILD_NOT_HANDLED;
  const n = R.entries();
  for (let f = 0; f < FIELDS; f++) at[f] = 0;
  let guess = 0;
  Memo.begin();
  for (let i = 0; i < n && !R.bad(); i++) {
    const keyAt = R.pos();
    const f = fieldOf(guess);
    if (f < 0 || at[f]) return REBUILD_NOT_HANDLED; // unknown (or no text), or twice
    // The caller's context as the last map's, byte for byte: placed whole.
    const same = Memo.field(f, keyAt, src + len, i, n, at);
    if (same < 0) return REBUILD_NOT_HANDLED;
    if (same > 0) {
      R.seek(keyAt + same);
      i += Memo.fieldCount() - 1;
      guess = Memo.nextField();
      continue;
    }
    at[f] = R.pos();
    R.skip();
    guess = f + 1;
    Memo.read(R.pos());
  }
  if (n < 0 || R.bad()) return REBUILD_NOT_HANDLED;
  const end = R.pos();
  return write() ? <i32>(end - src) : REBUILD_NOT_HANDLED;
}

/** The catalogue's id of the event named by the text at pos, or -1. */
function eventId(pos: usize): i32 {
  for (let id = 0; id < L.EVENT_COUNT; id++) {
    R.seek(pos);
    if (C.EVENT_NAMES[id] != "unknown" && R.takes(eventNamePiece(id))) return id;
  }
  return -1;
}

function hookId(pos: usize): i32 {
  for (let h = 1; h <= L.HOOK_SCAN; h++) {
    R.seek(pos);
    if (R.takes(hookNamePiece(h))) return h;
  }
  return -1;
}

const U64_FIELDS: StaticArray<i32> = [K.FIELD_TIMESTAMP, K.FIELD_CGROUP_ID, K.FIELD_RETURN_VALUE];
const U64_OFFSETS: StaticArray<usize> = [L.REC_OFF_BOOT_NS, L.REC_OFF_CGROUP_ID, L.REC_OFF_RET];
const U32_FIELDS: StaticArray<i32> = [
  K.FIELD_HOST_THREAD_ID, K.FIELD_HOST_PARENT_PROCESS_ID, K.FIELD_PROCESS_ID, K.FIELD_THREAD_ID, K.FIELD_PARENT_PROCESS_ID,
  K.FIELD_USER_ID, K.FIELD_GROUP_ID, K.FIELD_MOUNT_NAMESPACE, K.FIELD_PID_NAMESPACE,
];
const U32_OFFSETS: StaticArray<usize> = [
  L.REC_OFF_HOST_TID, L.REC_OFF_HOST_PPID, L.REC_OFF_PID, L.REC_OFF_TID, L.REC_OFF_PPID,
  L.REC_OFF_UID, L.REC_OFF_GID, L.REC_OFF_MNT_NS, L.REC_OFF_PID_NS,
];
// Keys there only when true (writeRecord's FLAG_KEYS).
const FLAG_FIELDS: StaticArray<i32> = [K.FIELD_COMPAT, K.FIELD_FILE_UNLINKED, K.FIELD_FILE_OTHER_MOUNT, K.FIELD_FILE_SWAPPED, K.FIELD_NO_LOAD_CALL];
const FLAG_BITS: StaticArray<u32> = [L.FLAG_COMPAT, L.FLAG_FILE_UNLINKED, L.FLAG_FILE_OTHER_MNT, L.FLAG_FILE_SWAPPED, L.FLAG_NO_LOAD_CALL];

function write(): bool {
  const out = Built.out;
  memory.fill(out, 0, L.REC_SIZE);
  Built.size = L.REC_SIZE;
  const id = at[K.FIELD_EVENT_NAME] ? eventId(at[K.FIELD_EVENT_NAME]) : -1;
  const hook = at[K.FIELD_HOOK] ? hookId(at[K.FIELD_HOOK]) : -1;
  if (id < 0 || hook < 0 || !at[K.FIELD_ARGS]) return false;
  store<u8>(out + L.REC_OFF_EVENT, id);
  store<u8>(out + L.REC_OFF_HOOK, hook);
  // The filters judge a record by its timestamp and pid: they must be the map's exactly.
  R.seek(at[K.FIELD_TIMESTAMP]);
  if (!at[K.FIELD_TIMESTAMP] || !R.head() || R.major != 0) return false;
  store<u64>(out + L.REC_OFF_BOOT_NS, R.arg);
  for (let i = 1; i < U64_FIELDS.length; i++) {
    if (!intAt(at[U64_FIELDS[i]])) return false;
    store<u64>(out + U64_OFFSETS[i], Built.int);
  }
  // The returnValue as an i64 (stats' Number of it), and its errno's name.
  intAt(at[K.FIELD_RETURN_VALUE]);
  if (R.arg >= 0x8000000000000000 || !returnErrorAgrees(<i64>Built.int)) return false;
  if (!C.EVENT_HAS_IMAGE[id] && (at[K.FIELD_SHA256] || at[K.FIELD_SHA256_ERROR] || at[K.FIELD_SIZE])) return false;
  if (!C.EVENT_IS_SYSCALL[id] && at[K.FIELD_MODULE_NAME]) return false;
  if (!strictU32At(at[K.FIELD_HOST_PROCESS_ID])) return false;
  store<u32>(out + L.REC_OFF_HOST_PID, <u32>Built.int);
  for (let i = 0; i < U32_FIELDS.length; i++) {
    if (!intAt(at[U32_FIELDS[i]])) return false;
    store<u32>(out + U32_OFFSETS[i], <u32>Built.int);
  }
  if (at[K.FIELD_PROCESS_NAME_RAW] || !commFits(at[K.FIELD_PROCESS_NAME])) return false;
  if (!comm(L.REC_OFF_COMM, 0, at[K.FIELD_PROCESS_NAME])) return false;
  if (!slotOfMap(L.SLOT_EXE, at[K.FIELD_EXECUTABLE])) return false;
  let context: i32;
  if (Memo.remembered()) context = Memo.apply();
  else {
    const stringsFrom = Built.size;
    context = writeContext(at);
    if (context >= 0) Memo.keep(at, stringsFrom, context);
  }
  if (context < 0) return false;
  store<u32>(out + L.REC_OFF_CONTEXT, <u32>context);

  let flags = readArgs(id, at[K.FIELD_ARGS]);
  if (flags < 0) return false;
  if (at[K.FIELD_CALL_ID]) {
    if (!intAt(at[K.FIELD_CALL_ID]) || R.major != 0 || R.arg == 0) return false; // 0 reads back as none
    store<u64>(out + L.REC_OFF_CALL_ID, Built.int);
    if (!C.EVENT_IS_SYSCALL[id]) flags |= L.FLAG_IN_SYSCALL;
  }
  if (at[K.FIELD_MODULE_NAME] && !slot(L.SLOT_MODULE, at[K.FIELD_MODULE_NAME], 0, 0, 0)) return false;
  for (let i = 0; i < FLAG_FIELDS.length; i++) {
    const pos = at[FLAG_FIELDS[i]];
    if (!pos) continue;
    R.seek(pos);
    if (!R.head() || R.major != 7 || R.info == 22) return false;
    if (R.info == 21) flags |= FLAG_BITS[i];
  }
  for (let i = 0; i < K.RECORD_FIELDS.length; i++) {
    const pos = at[K.RECORD_FIELDS[i]];
    if (!pos) continue; // not in the map: its flag stays off
    if (!recordFieldAt(pos, K.RECORD_FIELD_KINDS[i], out + K.RECORD_FIELD_OFFSETS[i])) return false;
    flags |= K.RECORD_FIELD_FLAGS[i];
  }
  if (!nameMismatchAgrees(id)) return false;
  if (!writeImage()) return false;
  store<u32>(out + L.REC_OFF_FLAGS, <u32>flags);
  const size = Built.size;
  const padded = (size + 7) & ~7;
  memory.fill(out + size, 0, padded - size);
  store<u32>(out + L.REC_OFF_SIZE, padded);
  store<u16>(out + L.REC_OFF_VERSION, L.LAYOUT_VERSION);
  return true;
}

/** Whether nameMismatch is what the decoder derives from the record's names: true, or absent. */
function nameMismatchAgrees(id: i32): bool {
  const pos = at[K.FIELD_NAME_MISMATCH];
  const derived = id == L.EVENT_DELETE_MODULE && nameMismatch(Built.out);
  if (!pos) return !derived;
  R.seek(pos);
  return derived && R.head() && R.major == 7 && R.info == 21;
}

/** Whether returnError is what the decoder writes for ret: absent for ret >= 0, else the errno's name, or E<n>. */
function returnErrorAgrees(ret: i64): bool {
  const pos = at[K.FIELD_RETURN_ERROR];
  if (ret >= 0) return !pos;
  if (!pos) return false;
  R.seek(pos);
  const text = R.text();
  if (R.bad()) return false;
  const n = <usize>R.arg;
  const errno = <u64>-ret;
  const name = errnoPiece(errno);
  if (name) return n == P.textLength(name) && memory.compare(text, P.textBytes(name), n) == 0;
  // E<n>: the digits of errno, after an E.
  if (n < 2 || load<u8>(text) != 0x45) return false;
  let v: u64 = 0;
  for (let i: usize = 1; i < n; i++) {
    const d = <u32>load<u8>(text + i) - 0x30;
    if (d > 9 || (i == 1 && d == 0 && n > 2)) return false;
    v = v * 10 + d;
  }
  return v == errno && n - 1 <= 20;
}

/** The image (writeRecord's image()): a digest and its size, or why there is none. */
function writeImage(): bool {
  const out = Built.out;
  let state: u32 = L.IMAGE_NONE;
  let size: u64 = 0;
  let sent: u64 = 0;
  let withSize = false;
  const sha = at[K.FIELD_SHA256];
  if (sha) {
    R.seek(sha);
    if (!R.head() || R.major != 2 || R.arg != <u64>L.REC_LEN_SHA256) return false;
    memory.copy(out + L.REC_OFF_SHA256, R.bytesAfterHead(), L.REC_LEN_SHA256);
    state = L.IMAGE_HASHED;
    withSize = true;
  } else if (at[K.FIELD_SHA256_ERROR]) {
    R.seek(at[K.FIELD_SHA256_ERROR]);
    const why = R.text();
    if (R.bad()) return false;
    const n = <usize>R.arg;
    if (R.spells(why, n, T.NO_HOOK)) state = L.IMAGE_NO_HOOK;
    else if (R.spells(why, n, T.UNREAD)) state = L.IMAGE_UNREAD;
    else if (R.spells(why, n, T.NOT_READ)) state = L.IMAGE_ON_DISK;
    else if (R.spells(why, n, T.LOST)) {
      state = L.IMAGE_LOST;
      withSize = true;
    } else {
      const bytes = ringFullSent(why, n);
      if (bytes < 0) return false;
      sent = Built.int;
      state = L.IMAGE_RING_FULL;
      if (!intAt(at[K.FIELD_SIZE])) return false;
      size = Built.int;
    }
  }
  if (withSize) {
    if (!intAt(at[K.FIELD_SIZE]) || R.major != 0) return false;
    size = sent = Built.int;
  }
  if (state == L.IMAGE_NONE) return true;
  store<u8>(out + L.REC_OFF_IMAGE_STATE, state);
  store<u64>(out + L.REC_OFF_IMAGE_SIZE, size);
  store<u64>(out + L.REC_OFF_IMAGE_SENT, sent);
  return true;
}

/** "image ring full after SENT of SIZE bytes (--image-buffer-size)": SENT
 * (in Built.int, as BigInt would wrap it into 64 bits) and 0, or -1. */
function ringFullSent(text: usize, n: usize): i32 {
  const before = <usize>T.RING_FULL_BEFORE.length;
  const between = <usize>T.RING_FULL_BETWEEN.length;
  const after = <usize>T.RING_FULL_AFTER.length;
  if (n < before + between + after + 2 || !R.spells(text, before, T.RING_FULL_BEFORE) || !R.spells(text + n - after, after, T.RING_FULL_AFTER)) return -1;
  let i = before;
  let sent: u64 = 0;
  while (i < n - after && load<u8>(text + i) >= 0x30 && load<u8>(text + i) <= 0x39) sent = sent * 10 + <u64>(load<u8>(text + i++) - 0x30);
  if (i == before || i + between >= n - after || !R.spells(text + i, between, T.RING_FULL_BETWEEN)) return -1;
  const digits = i + between;
  for (i = digits; i < n - after; i++) if (load<u8>(text + i) < 0x30 || load<u8>(text + i) > 0x39) return -1;
  Built.int = sent;
  return 0;
}
