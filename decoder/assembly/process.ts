// A process's name and executable, as every event gives them for its caller
// and for each of the caller's ancestors.
import * as s from "./structured";
import * as args from "./args";
import * as K from "./keys";
import * as utf8 from "./utf8";

/** processName, and processNameRaw when the comm is not valid UTF-8: for
 * the caller and for each of its ancestors. */
export function writeProcessName(comm: usize, commBytes: i32): void {
  s.key(K.PROCESS_NAME);
  s.textBytes(comm, commBytes);
  if (!utf8.isValid(comm, commBytes)) {
    s.key(K.PROCESS_NAME_RAW);
    s.rawBytes(comm, commBytes);
  }
}

/** executable: {path, …} from a string slot. */
export function writeExecutable(rec: usize, slot: usize): void {
  s.key(K.EXECUTABLE);
  s.beginMap();
  s.key(K.PATH);
  args.stringBody(rec, slot);
  s.endMap();
}

