// One event as a JSON object or CBOR map, Tracee's field names and order.
import * as L from "./generated/layout";
import * as out from "./output";
import * as s from "./structured";
import * as args from "./args";
import { errnoName, eventName, hookName, isSyscall, traceeId } from "./events";
import { commLen, strLen, strPtr, strState, u32At, u64At, u8At } from "./record";
import * as utf8 from "./utf8";

// Fixed keys of every event map: timestamp … argsNum, args.
const FIXED_KEYS = 21;

/** delete_module: did the kernel act on another name than the one read from
 * the caller's memory at entry (which the caller could change meanwhile)? */
function nameMismatch(rec: usize): bool {
  if (strState(rec, L.SLOT_MODULE) != L.STR_OK || strState(rec, L.SLOT_ARG) != L.STR_OK) return false;
  const n = strLen(rec, L.SLOT_ARG);
  return n != strLen(rec, L.SLOT_MODULE) || memory.compare(strPtr(rec, L.SLOT_ARG), strPtr(rec, L.SLOT_MODULE), n) != 0;
}

export function writeEvent(rec: usize, clockOffset: i64): void {
  const event = u8At(rec, L.REC_OFF_EVENT);
  const callId = u64At(rec, L.REC_OFF_CALL_ID);
  // A syscall event learns the kernel's name for its module from the
  // module_load or module_free it caused.
  const moduleName = isSyscall(event) && strState(rec, L.SLOT_MODULE) != L.STR_ABSENT;
  const mismatch = event == L.EVENT_DELETE_MODULE && nameMismatch(rec);
  const ret = <i64>u64At(rec, L.REC_OFF_RET);
  const errno = ret < 0 ? errnoName(<u64>-ret) : "";
  const comm = rec + L.REC_OFF_COMM;
  const commBytes = commLen(rec);
  const commValid = utf8.isValid(comm, commBytes);
  const name = eventName(event);

  s.beginMap(FIXED_KEYS + (ret < 0 ? 1 : 0) + (commValid ? 0 : 1) + (callId ? 1 : 0) + (moduleName ? 1 : 0) + (mismatch ? 1 : 0));
  s.key("timestamp");
  s.uint(<u64>(<i64>u64At(rec, L.REC_OFF_BOOT_NS) + clockOffset));
  s.key("processId");
  s.uint(u32At(rec, L.REC_OFF_PID));
  s.key("threadId");
  s.uint(u32At(rec, L.REC_OFF_TID));
  s.key("parentProcessId");
  s.uint(u32At(rec, L.REC_OFF_PPID));
  s.key("hostProcessId");
  s.uint(u32At(rec, L.REC_OFF_HOST_PID));
  s.key("hostThreadId");
  s.uint(u32At(rec, L.REC_OFF_HOST_TID));
  s.key("hostParentProcessId");
  s.uint(u32At(rec, L.REC_OFF_HOST_PPID));
  s.key("userId");
  s.uint(u32At(rec, L.REC_OFF_UID));
  s.key("groupId");
  s.uint(u32At(rec, L.REC_OFF_GID));
  s.key("processName");
  s.textBytes(comm, commBytes);
  if (!commValid) {
    s.key("processNameRaw");
    s.rawBytes(comm, commBytes);
  }
  s.key("executable");
  s.beginMap(1 + args.stringExtras(rec, L.SLOT_EXE));
  s.key("path");
  args.stringBody(rec, L.SLOT_EXE);
  s.endMap();
  s.key("cgroupId");
  s.uint(u64At(rec, L.REC_OFF_CGROUP_ID));
  s.key("mountNamespace");
  s.uint(u32At(rec, L.REC_OFF_MNT_NS));
  s.key("pidNamespace");
  s.uint(u32At(rec, L.REC_OFF_PID_NS));
  s.key("eventId");
  s.uint(traceeId(event));
  s.key("eventName");
  s.text(name);
  s.key("syscall");
  s.text(isSyscall(event) ? name : "");
  s.key("hook");
  s.text(hookName(u8At(rec, L.REC_OFF_HOOK)));
  s.key("returnValue");
  s.int(ret);
  if (ret < 0) {
    s.key("returnError");
    if (errno.length) s.text(errno);
    else {
      s.beginText(1 + out.decimalWidth(<u64>-ret));
      out.byte(0x45);
      out.decimal(<u64>-ret);
      s.endText();
    }
  }
  if (callId) {
    s.key("callId");
    s.uint(callId);
  }
  if (moduleName) {
    s.key("moduleName");
    if (strState(rec, L.SLOT_MODULE) == L.STR_OK) s.textBytes(strPtr(rec, L.SLOT_MODULE), strLen(rec, L.SLOT_MODULE));
    else s.nil();
  }
  if (mismatch) {
    s.key("nameMismatch");
    s.boolean(true);
  }
  const count = args.argCount(event);
  s.key("argsNum");
  s.uint(count);
  s.key("args");
  s.beginArray(count);
  args.begin(s.format);
  args.writeArgs(rec, event);
  s.endArray();
  s.endMap();
}
