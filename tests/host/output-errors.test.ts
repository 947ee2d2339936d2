// Bad output destinations: a clear error, a non-zero exit, nothing clobbered.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Capture, jsonLines, scratchDir, trigger } from "./harness";
import { cborItems } from "../lib/cbor";
import { runModtrace } from "../lib/modtrace";

describe("output errors", () => {
  test("a symbolic link at the output path is refused and its target left alone", () => {
    const dir = scratchDir();
    const victim = join(dir, "victim");
    writeFileSync(victim, "precious");
    symlinkSync(victim, join(dir, "log.cbor"));
    const r = runModtrace(["-o", `cbor:${join(dir, "log.cbor")}`, "--duration", "1"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("symbolic link");
    expect(readFileSync(victim, "utf8")).toBe("precious");
  });

  test("a device as the output path (/dev/null) is written and closed without error", () => {
    const r = runModtrace(["-o", "json:/dev/null", "--comm", "mt-trigger", "--duration", "1"]);
    expect(r.stderr).not.toContain("EINVAL");
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("events captured");
  });

  // One rule for every output path: missing directories are made, whether
  // the path names a file in them or the directory itself.
  test("missing directories are made for a file, a log directory and a parquet directory alike", () => {
    const dir = scratchDir();
    const [json, cbor, logs, parquet] = ["a/b/x.json", "c/d/x.cbor", "e/f/", "g/h"].map((p) => join(dir, p));
    const r = runModtrace(["--comm", "mt-trigger", "-o", `json:${json}`, "-o", `cbor:${cbor}`, "-o", `cbor:${logs}`, "--duration", "1"]);
    expect(r).toMatchObject({ exitCode: 0 });
    expect(statSync(json).isFile() && statSync(cbor).isFile()).toBe(true);
    expect(readdirSync(logs).length).toBe(1);
    expect(runModtrace(["read", cbor, "-o", `parquet:${parquet}`]).exitCode).toBe(0);
    expect(readdirSync(parquet)).toContain("captures.parquet");
  });

  test("a directory that cannot be made is named, with why and what to do, never in Node's words", () => {
    const file = join(scratchDir(), "plain");
    writeFileSync(file, "");
    for (const output of [`json:${file}/x.json`, `cbor:${file}/x.cbor`, `cbor:${file}/logs/`]) {
      const r = runModtrace(["-o", output, "--duration", "1"]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`cannot create the directory ${file}`);
      expect(r.stderr).toContain("a part of the path is a file, not a directory; create it yourself or choose another path");
      expect(r.stderr).not.toMatch(/E[A-Z]+: /);
    }
  });

  test("an unwritable directory gives a clear error and exit 1", () => {
    const dir = scratchDir();
    // mode=0755: a read-only directory, not one that others could write (refused first).
    Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "ro,mode=0755", "tmpfs", dir]);
    try {
      const r = runModtrace(["-o", `cbor:${join(dir, "log.cbor")}`, "--duration", "1"]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`cannot open cbor output ${join(dir, "log.cbor")}`);
      expect(r.stderr).toContain("read-only");
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

  test("standard output closed (>&-): refused before capturing, not written into the void", () => {
    const file = join(scratchDir(), "log.cbor");
    for (const stdout of ["-o text", "-o cbor"]) {
      const r = runModtrace([...stdout.split(" "), "-o", `cbor:${file}`, "--duration", "1"], { prefix: ["sh", "-c", 'exec "$@" >&-', "sh"] });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`cannot write ${stdout.slice(3)} to standard output: it is closed`);
    }
  });

  // The summary's counts are what each output was given, beside what was captured.
  test("the reader went away: captured per kind, and nothing claimed written that was not", async () => {
    const file = join(scratchDir(), "log.cbor");
    const capture = await Capture.startShell(`"$MODTRACE" --comm mt-trigger -o json -o cbor:${file} | head -c 0`);
    trigger("thread");
    const done = await capture.finished();
    expect(done.stderr).toContain("the reader went away");
    // The kinds after delete_module are the kernel's own, attached where it has them.
    expect(done.stderr).toMatch(/1 events captured \(init_module 0, finit_module 0, delete_module 1[,)]/);
    expect(done.stderr).toContain(`written: 0 events to standard output (json), 0 events to ${file} (cbor)`);
  });

  test("--findings-only: no events written, and the summary and the trailer say so", async () => {
    const file = join(scratchDir(), "log.cbor");
    const capture = await Capture.start(["--comm", "mt-trigger", "--findings-only", "-o", "json", "-o", `cbor:${file}`]);
    trigger("thread");
    const done = await capture.stop();
    expect(jsonLines(done.stdout)).toEqual([]);
    expect(done.stderr).toContain("1 events captured");
    expect(done.stderr).toMatch(/written: 0 events( and \d+ findings?)? to standard output \(json\), 0 events( and \d+ findings?)? to \S+ \(cbor\)/);
    expect(cborItems(readFileSync(file)).at(-1)).toMatchObject({ trailer: true, events: 0 });
  });

  test("output files are created with mode 0600", async () => {
    const dir = scratchDir();
    const path = join(dir, "events.json");
    const capture = await Capture.start(["-o", `json:${path}`, "--comm", "mt-trigger"]);
    await capture.stop();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
