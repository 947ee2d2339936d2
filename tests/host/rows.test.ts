// -o rows on a live capture: the same rows, byte for byte, as `read -o rows`
// makes from the capture's own log (the analysis tier checks those against
// the JSON output), and one per call the trigger made.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Capture, scratchDir, trigger } from "./harness";
import { runModtrace } from "../lib/modtrace";

describe("live rows", () => {
  test("capture -o rows writes what read -o rows gives from the same capture's log", async () => {
    const dir = scratchDir();
    const [rows, cbor] = ["live.jsonl", "log.cbor"].map((f) => join(dir, f));
    const capture = await Capture.start(["--comm", "mt-trigger", "-o", `rows:${rows}`, "-o", `cbor:${cbor}`]);
    const calls = [...trigger("edge"), ...trigger("thread")];
    const [burst] = trigger("burst", "500"); // one line for all its calls
    const done = await capture.stop();
    expect(done.exitCode).toBe(0);
    const fromLog = runModtrace(["read", cbor, "-o", "rows"]);
    expect(fromLog.exitCode).toBe(0);
    const live = readFileSync(rows);
    expect(live.equals(fromLog.stdoutBytes)).toBe(true);
    const lines = live.toString().trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBe(calls.length + burst.calls);
    expect(new Set(lines.map((r) => r.hostProcessId))).toEqual(new Set([...calls, burst].map((c) => c.pid)));
  });
});
