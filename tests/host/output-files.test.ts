// What someone who can write where modtrace writes might plant first: a
// FIFO at the output path (the open must not wait on it), a file of theirs
// or a log that must be kept, a directory everyone writes, a link on the way
// to --save-modules. Each is refused with an error that says so, at once.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODTRACE, scratchDir } from "./harness";

// Long enough for a capture that starts; a refusal comes before anything is attached.
const TIMEOUT_MS = 60_000;

function run(...args: string[]) {
  const r = Bun.spawnSync([MODTRACE, ...args], { stdout: "pipe", stderr: "pipe", timeout: TIMEOUT_MS });
  return { code: r.exitCode, signal: r.signalCode, err: r.stderr.toString() };
}

describe("output files", () => {
  test("a FIFO planted at the output path is refused without waiting for a reader", () => {
    const fifo = join(scratchDir(), "log.json");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const r = run("-o", `json:${fifo}`, "--duration", "1");
    expect(r.signal).toBeFalsy(); // not killed by the timeout: it did not hang
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot open json output ${fifo}: it is a FIFO`);
  });

  test("an existing file is refused and kept intact; --overwrite replaces it", () => {
    const dir = scratchDir();
    const log = join(dir, "log.cbor");
    writeFileSync(log, "yesterday's evidence");
    const refused = run("-o", `cbor:${log}`, "--duration", "1");
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("it exists");
    expect(refused.err).toContain("--overwrite");
    expect(readFileSync(log, "utf8")).toBe("yesterday's evidence");

    const replaced = run("-o", `cbor:${log}`, "--overwrite", "--comm", "mt-trigger", "--duration", "1");
    expect(replaced.code).toBe(0);
    expect(readFileSync(log).subarray(0, 40).toString("latin1")).toContain("modtrace-log");
  });

  test("`read` refuses an existing output file too, unless --overwrite", () => {
    const dir = scratchDir();
    const log = join(dir, "log.cbor");
    expect(run("-o", `cbor:${log}`, "--comm", "mt-trigger", "--duration", "1").code).toBe(0);
    const out = join(dir, "out.json");
    writeFileSync(out, "keep");
    const r = Bun.spawnSync([MODTRACE, "read", log, "-o", `json:${out}`], { stderr: "pipe" });
    expect(r.exitCode).not.toBe(0);
    expect(readFileSync(out, "utf8")).toBe("keep");
    expect(Bun.spawnSync([MODTRACE, "read", log, "-o", `json:${out}`, "--overwrite"]).exitCode).toBe(0);
  });

  test("an output directory others can write into is refused", () => {
    const dir = scratchDir();
    const open = join(dir, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = run("-o", `json:${join(open, "x.json")}`, "--duration", "1");
    expect(r.code).toBe(1);
    expect(r.err).toContain("writable by everyone");
    expect(readdirSync(open)).toEqual([]);
    // A log directory too (rotation's set of files).
    const logs = run("-o", `cbor:${open}/`, "--duration", "1");
    expect(logs.code).toBe(1);
    expect(logs.err).toContain("writable by everyone");
  });

  test("--save-modules through a symbolic link is refused, and nothing is made through it", () => {
    const dir = scratchDir();
    const real = join(dir, "real");
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(dir, "link"));
    const r = run("--save-modules", join(dir, "link", "ko"), "-o", `json:${join(dir, "x.json")}`, "--duration", "1");
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(dir, "link")} is a symbolic link`);
    expect(readdirSync(real)).toEqual([]);
    expect(statSync(join(dir, "link"), { throwIfNoEntry: false })?.isDirectory()).toBe(true);
  });
});
