// One event as a JSON object or CBOR map, Tracee's field names and order.
import * as L from "./generated/layout";
import * as out from "./output";
import * as s from "./structured";
import * as args from "./args";
import { writeContext } from "./context";
import { writeExecutable, writeProcessName } from "./process";
import { errnoPiece, eventNamePiece, hookNamePiece, isSyscall, traceeId } from "./events";
import * as K from "./keys";
import * as P from "./pieces";
import { commLen, nameMismatch, strLen, strPtr, strState, u32At, u64At, u8At } from "./record";
import { imageState, writeImage } from "./image";


/** key: true, when flags has the bit. */
function trueKey(flags: u32, bit: u32, key: P.Piece): void {
  if ((flags & bit) == 0) return;
  s.key(key);
  s.boolean(true);
}

/** The fields the table reads straight from the record, each where the
 * record's flags say the kernel filled it. */
function writeRecordFields(rec: usize, flags: u32): void {
  for (let i = 0; i < K.RECORD_FIELDS.length; i++) {
    if ((flags & K.RECORD_FIELD_FLAGS[i]) == 0) continue;
    const at = rec + K.RECORD_FIELD_OFFSETS[i];
    s.key(K.RECORD_FIELD_KEYS[i]);
    const kind = K.RECORD_FIELD_KINDS[i];
    if (kind == K.RECORD_BOOL) s.boolean(load<u8>(at) != 0);
    else if (kind == K.RECORD_UINT32) s.uint(load<u32>(at));
    else if (kind == K.RECORD_INT32) s.int(<i64>load<i32>(at));
    else if (kind == K.RECORD_UINT64) s.uint(load<u64>(at));
    else s.int(load<i64>(at));
  }
}

export function writeEvent(rec: usize, clockOffset: i64): void {
  const event = u8At(rec, L.REC_OFF_EVENT);
  const callId = u64At(rec, L.REC_OFF_CALL_ID);
  // A syscall event learns the kernel's name for its module from the
  // module_load or module_free it caused.
  const moduleName = isSyscall(event) && strState(rec, L.SLOT_MODULE) != L.STR_ABSENT;
  const mismatch = event == L.EVENT_DELETE_MODULE && nameMismatch(rec);
  const ret = <i64>u64At(rec, L.REC_OFF_RET);
  const errno = ret < 0 ? errnoPiece(<u64>-ret) : 0;
  const comm = rec + L.REC_OFF_COMM;
  const commBytes = commLen(rec);
  const name = eventNamePiece(event);
  const image = imageState(rec, event);

  s.beginMap(true); // some thirty keys: a two-byte CBOR head
  s.key(K.TIMESTAMP);
  s.uint(<u64>(<i64>u64At(rec, L.REC_OFF_BOOT_NS) + clockOffset));
  s.key(K.PROCESS_ID);
  s.uint(u32At(rec, L.REC_OFF_PID));
  s.key(K.THREAD_ID);
  s.uint(u32At(rec, L.REC_OFF_TID));
  s.key(K.PARENT_PROCESS_ID);
  s.uint(u32At(rec, L.REC_OFF_PPID));
  s.key(K.HOST_PROCESS_ID);
  s.uint(u32At(rec, L.REC_OFF_HOST_PID));
  s.key(K.HOST_THREAD_ID);
  s.uint(u32At(rec, L.REC_OFF_HOST_TID));
  s.key(K.HOST_PARENT_PROCESS_ID);
  s.uint(u32At(rec, L.REC_OFF_HOST_PPID));
  s.key(K.USER_ID);
  s.uint(u32At(rec, L.REC_OFF_UID));
  s.key(K.GROUP_ID);
  s.uint(u32At(rec, L.REC_OFF_GID));
  writeProcessName(comm, commBytes);
  writeExecutable(rec, L.SLOT_EXE);
  s.key(K.CGROUP_ID);
  s.uint(u64At(rec, L.REC_OFF_CGROUP_ID));
  s.key(K.MOUNT_NAMESPACE);
  s.uint(u32At(rec, L.REC_OFF_MNT_NS));
  s.key(K.PID_NAMESPACE);
  s.uint(u32At(rec, L.REC_OFF_PID_NS));
  writeContext(rec, clockOffset);
  s.key(K.EVENT_ID);
  s.uint(traceeId(event));
  s.key(K.EVENT_NAME);
  s.textPiece(name);
  s.key(K.SYSCALL);
  s.textPiece(isSyscall(event) ? name : K.EMPTY);
  s.key(K.HOOK);
  s.textPiece(hookNamePiece(u8At(rec, L.REC_OFF_HOOK)));
  s.key(K.RETURN_VALUE);
  s.int(ret);
  if (ret < 0) {
    s.key(K.RETURN_ERROR);
    if (errno) s.textPiece(errno);
    else {
      s.beginText(1 + out.decimalWidth(<u64>-ret));
      out.byte(0x45);
      out.decimal(<u64>-ret);
      s.endText();
    }
  }
  if (callId) {
    s.key(K.CALL_ID);
    s.uint(callId);
  }
  if (moduleName) {
    s.key(K.MODULE_NAME);
    if (strState(rec, L.SLOT_MODULE) == L.STR_OK) s.textBytes(strPtr(rec, L.SLOT_MODULE), strLen(rec, L.SLOT_MODULE));
    else s.nil();
  }
  if (mismatch) {
    s.key(K.NAME_MISMATCH);
    s.boolean(true);
  }
  // The way in and the file's standing, each only where true, so an
  // ordinary event reads as it always has.
  const flags = u32At(rec, L.REC_OFF_FLAGS);
  trueKey(flags, L.FLAG_COMPAT, K.COMPAT);
  trueKey(flags, L.FLAG_FILE_UNLINKED, K.FILE_UNLINKED);
  trueKey(flags, L.FLAG_FILE_OTHER_MNT, K.FILE_OTHER_MOUNT);
  trueKey(flags, L.FLAG_FILE_SWAPPED, K.FILE_SWAPPED);
  trueKey(flags, L.FLAG_NO_LOAD_CALL, K.NO_LOAD_CALL);
  writeImage(rec, image);
  writeRecordFields(rec, flags);
  const count = args.argCount(rec, event);
  s.key(K.ARGS_NUM);
  s.uint(count);
  s.key(K.ARGS);
  s.beginArray();
  args.begin(s.format);
  args.writeArgs(rec, event);
  s.endArray();
  s.endMap();
}
