// `read` of a log written before events carried the caller's context or
// their image's hash (layout 3: tests/fixtures/layout-3.cbor, a VM capture
// kept from then): the events come back without either, never with invented
// zeros; a log with the context gives it back.
import { describe, expect, test } from "bun:test";
import { describeEnd, runModtrace } from "../../lib/modtrace";

const OLD_LOG = "tests/fixtures/layout-3.cbor";
const NEW_LOG = "tests/fixtures/kernel-6.18.cbor";

function read(log: string, ...args: string[]): string {
  const r = runModtrace(["read", log, ...args]);
  expect(r.stderr).toBe("");
  expect(r.exitCode, describeEnd(r)).toBe(0);
  return r.stdout;
}

const CONTEXT_KEYS = ["ancestors", "loginUserId", "sessionId", "effectiveUserId", "capabilities", "cgroup", "inContainer", "userNamespace", "initialNamespaces"];

describe("read and the caller context", () => {
  test("an older log's events have no context keys, and no context in text", () => {
    const events = read(OLD_LOG, "-o", "json").trim().split("\n").map((l) => JSON.parse(l));
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) for (const k of [...CONTEXT_KEYS, "sha256", "size", "sha256Error"]) expect(e[k]).toBeUndefined();
    expect(read(OLD_LOG, "-o", "text")).not.toContain("| chain=");
    // In no container: --not-container keeps them all, --container none.
    expect(read(OLD_LOG, "-o", "json", "--not-container").trim().split("\n").length).toBe(events.length);
    expect(read(OLD_LOG, "-o", "json", "--container")).toBe("");
  });

  test("a log with the context gives every context key back", () => {
    for (const line of read(NEW_LOG, "-o", "json").trim().split("\n")) {
      const e = JSON.parse(line);
      for (const k of CONTEXT_KEYS) expect(e[k]).toBeDefined();
    }
    expect(read(NEW_LOG, "-o", "text")).toContain("| chain=");
  });
});
