// What someone who can write where modtrace writes might plant first: a
// FIFO at the output path (the open must not wait on it), a file of theirs
// or a log that must be kept, a directory everyone writes, a link on the way
// to --save-modules. Each is refused with an error that says so, at once.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runModtrace } from "../lib/modtrace";
import { scratchDir } from "./harness";

// Long enough for a capture that starts; a refusal comes before anything is attached.
const TIMEOUT_MS = 60_000;

describe("output files", () => {
  test("a FIFO planted at the output path is refused without waiting for a reader", () => {
    const fifo = join(scratchDir(), "log.json");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const r = runModtrace(["-o", `json:${fifo}`, "--duration", "1"], { timeout: TIMEOUT_MS });
    expect(r.signal).toBeFalsy(); // not killed by the timeout: it did not hang
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`cannot open json output ${fifo}: it is a FIFO`);
  });

  test("an existing file is refused and kept intact; --overwrite replaces it", () => {
    const dir = scratchDir();
    const log = join(dir, "log.cbor");
    writeFileSync(log, "yesterday's evidence");
    const refused = runModtrace(["-o", `cbor:${log}`, "--duration", "1"], { timeout: TIMEOUT_MS });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("it exists");
    expect(refused.stderr).toContain("--overwrite");
    expect(readFileSync(log, "utf8")).toBe("yesterday's evidence");

    const replaced = runModtrace(["-o", `cbor:${log}`, "--overwrite", "--comm", "mt-trigger", "--duration", "1"], { timeout: TIMEOUT_MS });
    expect(replaced.exitCode).toBe(0);
    expect(readFileSync(log).subarray(0, 40).toString("latin1")).toContain("modtrace-log");
  });

  test("`read` refuses an existing output file too, unless --overwrite", () => {
    const dir = scratchDir();
    const log = join(dir, "log.cbor");
    expect(runModtrace(["-o", `cbor:${log}`, "--comm", "mt-trigger", "--duration", "1"], { timeout: TIMEOUT_MS }).exitCode).toBe(0);
    const out = join(dir, "out.json");
    writeFileSync(out, "keep");
    const r = runModtrace(["read", log, "-o", `json:${out}`]);
    expect(r.exitCode).not.toBe(0);
    expect(readFileSync(out, "utf8")).toBe("keep");
    expect(runModtrace(["read", log, "-o", `json:${out}`, "--overwrite"]).exitCode).toBe(0);
  });

  test("an output directory others can write into is refused", () => {
    const dir = scratchDir();
    const open = join(dir, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = runModtrace(["-o", `json:${join(open, "x.json")}`, "--duration", "1"], { timeout: TIMEOUT_MS });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("writable by everyone");
    expect(readdirSync(open)).toEqual([]);
    // A log directory too (rotation's set of files).
    const logs = runModtrace(["-o", `cbor:${open}/`, "--duration", "1"], { timeout: TIMEOUT_MS });
    expect(logs.exitCode).toBe(1);
    expect(logs.stderr).toContain("writable by everyone");
  });

  test("--save-modules through a symbolic link is refused, and nothing is made through it", () => {
    const dir = scratchDir();
    const real = join(dir, "real");
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(dir, "link"));
    const r = runModtrace(["--save-modules", join(dir, "link", "ko"), "-o", `json:${join(dir, "x.json")}`, "--duration", "1"], { timeout: TIMEOUT_MS });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${join(dir, "link")} is a symbolic link`);
    expect(readdirSync(real)).toEqual([]);
    expect(statSync(join(dir, "link"), { throwIfNoEntry: false })?.isDirectory()).toBe(true);
  });

  test("capture -o: each format `read -o` knows is named in capture's --help, and works there or says to use read", () => {
    const help = runModtrace(["capture", "--help"]).stdout.replace(/\s+/g, " ");
    const described = /-o, --output <format\[:path\]> output format and destination \(([^)]*)\)/.exec(help)?.[1] ?? "";
    // read's own list, from its help: "text, json, cbor, rows, captures, findings or parquet:DIR".
    const formats = /-o, --output <format\[:path\]> ([a-z, ]+) or parquet/.exec(runModtrace(["read", "--help"]).stdout.replace(/\s+/g, " "))![1].split(/, /).concat("parquet");
    expect(formats).toContain("findings");
    for (const format of formats) {
      expect(described).toContain(format);
      // text, json and cbor captures are every other test's.
      if (["text", "json", "cbor"].includes(format)) continue;
      const dir = scratchDir();
      const r = runModtrace(["-o", `${format}:${join(dir, "out")}`, "--duration", "0.1", "--no-findings"], { timeout: TIMEOUT_MS });
      if (r.exitCode !== 0) expect(r.stderr).toContain(`modtrace read PATH -o ${format}`);
    }
  });
});

