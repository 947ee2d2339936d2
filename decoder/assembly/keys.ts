// Every key and fixed value the structured formats write, as pieces
// (pieces.ts): Tracee's field names, modtrace's own beside them.
import { key, text } from "./pieces";

export const TIMESTAMP = key("timestamp");
export const PROCESS_ID = key("processId");
export const THREAD_ID = key("threadId");
export const PARENT_PROCESS_ID = key("parentProcessId");
export const HOST_PROCESS_ID = key("hostProcessId");
export const HOST_THREAD_ID = key("hostThreadId");
export const HOST_PARENT_PROCESS_ID = key("hostParentProcessId");
export const USER_ID = key("userId");
export const GROUP_ID = key("groupId");
export const PROCESS_NAME = key("processName");
export const PROCESS_NAME_RAW = key("processNameRaw");
export const EXECUTABLE = key("executable");
export const PATH = key("path");
export const CGROUP_ID = key("cgroupId");
export const MOUNT_NAMESPACE = key("mountNamespace");
export const PID_NAMESPACE = key("pidNamespace");
export const EVENT_ID = key("eventId");
export const EVENT_NAME = key("eventName");
export const SYSCALL = key("syscall");
export const HOOK = key("hook");
export const RETURN_VALUE = key("returnValue");
export const RETURN_ERROR = key("returnError");
export const CALL_ID = key("callId");
export const MODULE_NAME = key("moduleName");
export const NAME_MISMATCH = key("nameMismatch");
export const COMPAT = key("compat");
export const FILE_UNLINKED = key("fileUnlinked");
export const FILE_OTHER_MOUNT = key("fileOtherMount");
export const FILE_SWAPPED = key("fileSwapped");
export const NO_LOAD_CALL = key("noLoadCall");
export const ARGS_NUM = key("argsNum");
export const ARGS = key("args");
// Inside an argument's map, after its value.
export const DECODED = key("decoded");
export const TRUNCATED = key("truncated");
export const RAW = key("raw");
export const ERROR = key("error");

export const UNREADABLE = text("unreadable");
export const EMPTY = text("");

// Who and where (layout 4): identity, capabilities, namespaces, cgroup,
// container, ancestry. Tracee's names where Tracee has the field.
export const USER_NAMESPACE = key("userNamespace");
export const INITIAL_NAMESPACES = key("initialNamespaces");
export const USER = key("user");
export const PID = key("pid");
export const MOUNT = key("mount");
export const EFFECTIVE_USER_ID = key("effectiveUserId");
export const LOGIN_USER_ID = key("loginUserId");
export const SESSION_ID = key("sessionId");
export const CAPABILITIES = key("capabilities");
export const EFFECTIVE = key("effective");
export const SYS_MODULE = key("sysModule");
export const CGROUP = key("cgroup");
export const CONTAINER = key("container");
export const ID = key("id");
export const RUNTIME = key("runtime");
export const KUBERNETES = key("kubernetes");
export const POD_UID = key("podUID");
export const IN_CONTAINER = key("inContainer");
export const ANCESTORS = key("ancestors");
export const ANCESTRY_CUT = key("ancestryCut");
export const START_TIME = key("startTime");
