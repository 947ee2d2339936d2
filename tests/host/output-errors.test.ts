// Bad output destinations: a clear error, a non-zero exit, nothing clobbered.
import { describe, expect, test } from "bun:test";
import { readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Capture, MODTRACE, scratchDir, trigger } from "./harness";

function run(...args: string[]) {
  const r = Bun.spawnSync([MODTRACE, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, err: r.stderr.toString() };
}

describe("output errors", () => {
  test("a symbolic link at the output path is refused and its target left alone", () => {
    const dir = scratchDir();
    const victim = join(dir, "victim");
    writeFileSync(victim, "precious");
    symlinkSync(victim, join(dir, "log.cbor"));
    const r = run("-o", `cbor:${join(dir, "log.cbor")}`, "--duration", "1");
    expect(r.code).toBe(1);
    expect(r.err).toContain("symbolic link");
    expect(readFileSync(victim, "utf8")).toBe("precious");
  });

  test("a device as the output path (/dev/null) is written and closed without error", () => {
    const r = run("-o", "json:/dev/null", "--comm", "mt-trigger", "--duration", "1");
    expect(r.err).not.toContain("EINVAL");
    expect(r.code).toBe(0);
    expect(r.err).toContain("events written");
  });

  test("a directory that does not exist is named in the error", () => {
    const r = run("-o", "json:/nonexistent-dir/x.json", "--duration", "1");
    expect(r.code).toBe(1);
    expect(r.err).toContain("cannot open json output /nonexistent-dir/x.json");
  });

  test("an unwritable directory gives a clear error and exit 1", () => {
    const dir = scratchDir();
    // mode=0755: a read-only directory, not one that others could write (refused first).
    Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "ro,mode=0755", "tmpfs", dir]);
    try {
      const r = run("-o", `cbor:${join(dir, "log.cbor")}`, "--duration", "1");
      expect(r.code).toBe(1);
      expect(r.err).toContain(`cannot open cbor output ${join(dir, "log.cbor")}`);
      expect(r.err).toContain("read-only");
    } finally {
      Bun.spawnSync(["umount", dir]);
    }
  });

  test("a full disk stops capture with a clear error", async () => {
    const capture = await Capture.start(["--comm", "mt-trigger", "-o", "json:/dev/full"]);
    trigger("thread");
    const done = await capture.finished();
    expect(done.exitCode).toBe(1);
    expect(done.stderr).toContain("the disk is full");
    expect(done.stderr).toContain("capture stopped");
  });

  test("output files are created with mode 0600", async () => {
    const dir = scratchDir();
    const path = join(dir, "events.json");
    const capture = await Capture.start(["-o", `json:${path}`, "--comm", "mt-trigger"]);
    await capture.stop();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
