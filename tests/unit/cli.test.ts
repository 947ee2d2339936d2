// The command line of the compiled binary: what needs no privileges.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json";

const MODTRACE = realpathSync("dist/modtrace");
const DEPS = process.env.MODTRACE_DEPS_CACHE ?? ".cache/deps";

function run(...args: string[]) {
  const r = Bun.spawnSync([MODTRACE, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("command line", () => {
  test("--version prints the package version and the Debian versions of the libraries built in", () => {
    // What loader/build-deps.sh downloaded: the Version of each .dsc it unpacked.
    const built = (p: string) => readFileSync(join(DEPS, "src", `${p}.version`), "utf8").trim();
    const r = run("--version");
    expect(r.code).toBe(0);
    const [first, second] = r.out.split("\n");
    expect(first).toBe(`modtrace ${pkg.version}`);
    expect(second).toStartWith(`built with libbpf ${built("libbpf")}, libelf (elfutils) ${built("elfutils")}, zlib ${built("zlib")} `);
    // libbpf's own word agrees with the Debian version's upstream part (1.1.2-0+deb12u1 -> v1.1).
    const [major, minor] = built("libbpf").split(".");
    expect(second).toContain(`libbpf reports v${major}.${minor}`);
  });

  test("the binary runs with the runtime options it needs, whatever its user's environment", async () => {
    // cmd/entry.ts: JavaScriptCore's wasm OSR off (oven-sh/bun#26366). A read of
    // standard input stays running until its input closes, long enough to look.
    const env = { ...process.env };
    delete env.BUN_JSC_useWasmOSR;
    const p = Bun.spawn([MODTRACE, "read", "/dev/stdin"], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env });
    let environ = "";
    for (let i = 0; i < 200 && !environ.includes("BUN_JSC_"); i++) {
      environ = readFileSync(`/proc/${p.pid}/environ`, "utf8");
      if (!environ.includes("BUN_JSC_")) await Bun.sleep(25);
    }
    p.stdin.end();
    await p.exited;
    for (const option of ["BUN_JSC_useWasmOSR=0", "BUN_JSC_useFFICallInDFG=0", "BUN_JSC_useFFIDirectCall=0", "BUN_JSC_useFFIICStub=0"])
      expect(environ.split("\0")).toContain(option);
  });

  test("--help teaches: formats, examples, filters", () => {
    const r = run("capture", "--help");
    expect(r.code).toBe(0);
    for (const word of ["--output", "cbor:/var/log/mod.cbor", "--pid", "--comm", "--uid", "--duration", "--count", "0600", "--read-at", "racing thread"])
      expect(r.out).toContain(word);
  });

  test("events lists every event with its arguments and hooks", () => {
    const r = run("events");
    expect(r.code).toBe(0);
    for (const name of ["init_module", "finit_module", "delete_module", "module_load", "module_free", "do_init_module", "module_request"])
      expect(r.out).toContain(`${name} `);
    expect(r.out).toContain("args: name, version, src_version, taints, sig_ok, pathname, dev, inode");
    expect(r.out).toContain("hooks, preferred first: fentry/fexit → ksyscall kprobe/kretprobe → raw_syscalls sys_exit");
    expect(r.out).toContain("args: fd, param_values, flags, pathname, dev, inode");
    expect(r.out).toContain("args: name, flags");
  });

  const usageErrors: [string[], string][] = [
    [["-o", "xml"], "unknown output format 'xml'"],
    [["-o", "json:"], "empty path"],
    [["-o", "text", "-o", "json"], "only one output can go to standard output"],
    [["--count", "many"], "--count must be a whole number"],
    [["--count", "0"], "--count must be at least 1"],
    [["--read-at", "noon"], "--read-at"],
    [["--duration", "-1"], "--duration must be a number above 0"],
    [["-e", "module_magic"], "unknown event 'module_magic'"],
    [["--buffer-size", "3"], "power of two"],
    [["--pid", "12x"], "--pid must be a whole number"],
    [["--frobnicate"], "unknown option"],
    [["--ancestors", "9"], "--ancestors is a whole number from 0 to 8"],
    [["--container", "abc", "--not-container"], "--container and --not-container exclude each other"],
    [["read", "tests/fixtures/kernel-6.18.cbor", "--container", "--not-container"], "--container and --not-container exclude each other"],
    [["-e", ""], "no events given"],
    [["read", "tests/fixtures/kernel-6.18.cbor", "-e", ","], "no events given"],
    [["--count", "99999999999999999999"], "--count is too large (at most 9007199254740991)"],
    [["--uid", "4294967296"], "--uid is too large (at most 4294967294)"],
    [["--uid", "no-such-user-here"], "unknown user 'no-such-user-here'"],
    [["read", "tests/fixtures/kernel-6.18.cbor", "-o", "parquet:"], "write parquet:DIR"],
  ];
  for (const [args, message] of usageErrors) {
    test(`usage error exits 2: ${args.join(" ")}`, () => {
      const r = run(...args);
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
    });
  }

  test("findings -o cbor writes a log that read, stats and findings take: the same findings back, byte for byte", () => {
    const logs = ["db-1", "web-1", "web-2"].flatMap((h) => [`tests/fixtures/vm/${h}`]).flatMap((d) => Bun.spawnSync(["sh", "-c", `ls ${d}/*.cbor`]).stdout.toString().trim().split("\n"));
    const dir = mkdtempSync(join(tmpdir(), "modtrace-findings-log-"));
    const log = join(dir, "findings.cbor");
    expect(run("findings", ...logs, "-o", `cbor:${log}`).code).toBe(0);
    const direct = run("findings", ...logs, "-o", "json");
    const again = run("findings", log, "-o", "json");
    expect(direct.out.split("\n").length).toBeGreaterThan(3);
    expect({ code: again.code, out: again.out }).toEqual({ code: 0, out: direct.out });
    const read = run("read", log, "-o", "json");
    expect({ code: read.code, out: read.out }).toEqual({ code: 0, out: direct.out });
    const stats = run("stats", log);
    expect(stats.code).toBe(0);
    expect(stats.out).not.toContain("without a trailer");
  });

  test("stats of good logs, a missing one and random bytes: what could be read, the rest named, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "modtrace-stats-"));
    const noise = join(dir, "noise.cbor");
    writeFileSync(noise, randomBytes(4096));
    const alone = JSON.parse(run("stats", "--json", "tests/fixtures/kernel-6.18.cbor").out);
    const r = run("stats", "--json", "tests/fixtures/kernel-6.18.cbor", join(dir, "missing.cbor"), noise);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ files: 1, events: alone.events });
    expect(r.err).toContain(`${join(dir, "missing.cbor")}: no such file: not read`);
  });

  // Nothing on standard output (not even the text header) before the input is known readable.
  for (const [what, args, message] of [
    ["a missing log", ["read", "/nonexistent/modtrace.cbor"], "/nonexistent/modtrace.cbor: no such file"],
    ["a directory", ["read", "tests/fixtures/"], "is a directory"],
    ["a missing log among good ones", ["read", "tests/fixtures/kernel-6.18.cbor", "/nonexistent.cbor", "-o", "json"], "/nonexistent.cbor: no such file"],
    ["stats of a missing log", ["stats", "/nonexistent.cbor"], "/nonexistent.cbor: no such file"],
  ] as const)
    test(`read and stats refuse ${what} before printing anything`, () => {
      const r = run(...args);
      expect(r).toMatchObject({ code: 1, out: "" });
      expect(r.err).toContain(message);
    });
});
