// One comparison of a decoded event (from JSON or from CBOR) with the call
// the trigger made: its ids, namespaces, result and time, each derived from
// the system, not modtrace. The caller's credentials, cgroup and ancestors
// are tests/lib/context-truth.ts's expectContext.
import { expect } from "bun:test";
import { constants } from "node:os";
import { cgroupId, namespaceInode, TRIGGER, type Truth } from "./harness";

// libc's names (what the trigger's errno is called in user space): the
// trigger's calls fail with ordinary errnos, which both tables name alike.
const ERRNO_NAME = Object.fromEntries(Object.entries(constants.errno).map(([name, n]) => [n, name]));

export function expectCall(e: any, truth: Truth, window: { from: number; to: number }) {
  expect(e.eventName).toBe(truth.call);
  expect(e.syscall).toBe(truth.call);
  expect(e.hostProcessId).toBe(truth.pid);
  expect(e.hostThreadId).toBe(truth.tid);
  expect(e.hostParentProcessId).toBe(truth.ppid);
  // The tests run in the initial pid namespace: namespace ids equal host ids.
  expect(e.processId).toBe(truth.pid);
  expect(e.threadId).toBe(truth.tid);
  expect(e.parentProcessId).toBe(truth.ppid);
  expect(e.userId).toBe(truth.uid);
  expect(e.groupId).toBe(truth.gid);
  expect(e.processName).toBe("mt-trigger");
  expect(e.executable.path).toBe(TRIGGER);
  expect(e.mountNamespace).toBe(namespaceInode("mnt"));
  expect(e.pidNamespace).toBe(namespaceInode("pid"));
  expect(e.cgroupId).toBe(cgroupId());
  expect(e.returnValue).toBe(truth.ret);
  if (truth.ret < 0) expect(e.returnError).toBe(ERRNO_NAME[-truth.ret]);
  else expect(e.returnError).toBeUndefined();
  const ms = Number(e.timestamp) / 1e6;
  expect(ms).toBeGreaterThanOrEqual(window.from - 1);
  expect(ms).toBeLessThanOrEqual(window.to + 1);
  expect(e.argsNum).toBe(e.args.length);
}
