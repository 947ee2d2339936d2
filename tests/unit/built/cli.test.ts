// The command line of the compiled binary: what needs no privileges.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../../package.json";
import { MODTRACE, reportSignal, runModtrace, signalName } from "../../lib/modtrace";

const DEPS = process.env.MODTRACE_DEPS_CACHE ?? ".cache/deps";

describe("command line", () => {
  test("--version prints the package version and the Debian versions of the libraries built in", () => {
    // What loader/build-deps.sh downloaded: the Version of each .dsc it unpacked.
    const built = (p: string) => readFileSync(join(DEPS, "src", `${p}.version`), "utf8").trim();
    const r = runModtrace(["--version"]);
    expect(r.exitCode).toBe(0);
    const [first, second] = r.stdout.split("\n");
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
    // Its end is not what this test asserts: a crash would pass unseen.
    const signal = signalName(p.signalCode);
    if (signal !== null) reportSignal("modtrace read /dev/stdin", signal, await new Response(p.stderr).text());
    for (const option of ["BUN_JSC_useWasmOSR=0", "BUN_JSC_useFFICallInDFG=0", "BUN_JSC_useFFIDirectCall=0", "BUN_JSC_useFFIICStub=0"])
      expect(environ.split("\0")).toContain(option);
  });

  test("--help teaches: formats, examples, filters", () => {
    const r = runModtrace(["capture", "--help"]);
    expect(r.exitCode).toBe(0);
    for (const word of ["--output", "cbor:/var/log/mod.cbor", "--pid", "--comm", "--uid", "--duration", "--count", "0600", "--read-at", "racing thread"])
      expect(r.stdout).toContain(word);
  });

  test("events lists every event with its arguments and hooks", () => {
    const r = runModtrace(["events"]);
    expect(r.exitCode).toBe(0);
    for (const name of ["init_module", "finit_module", "delete_module", "module_load", "module_free", "do_init_module", "module_request"])
      expect(r.stdout).toContain(`${name} `);
    expect(r.stdout).toContain("args: name, version, src_version, taints, sig_ok, pathname, dev, inode, code_base, code_size\n");
    expect(r.stdout).toContain("hooks, preferred first: fentry/fexit → ksyscall kprobe/kretprobe → raw_syscalls sys_exit");
    expect(r.stdout).toContain("args: fd, param_values, flags, pathname, dev, inode");
    expect(r.stdout).toContain("args: name, flags");
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
      const r = runModtrace(args);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(message);
      // One shape for every usage error, commander's own and modtrace's.
      expect(r.stderr).toMatch(/^error: .*\n\(run with --help for usage\)\n$/);
    });
  }

  test("--no-findings with --findings-only or --fail-on names what was given, and only that", () => {
    const only = runModtrace(["--no-findings", "--findings-only"]);
    expect([only.exitCode, only.stderr.split("\n")[0]]).toEqual([2, "error: --findings-only needs the findings that --no-findings turns off"]);
    const both = runModtrace(["--no-findings", "--findings-only", "--fail-on", "high"]);
    expect(both.stderr.split("\n")[0]).toBe("error: --findings-only and --fail-on need the findings that --no-findings turns off");
  });

  test("stats of a log without events gives no time range", () => {
    const dir = mkdtempSync(join(tmpdir(), "modtrace-stats-empty-"));
    const empty = join(dir, "empty.cbor");
    writeFileSync(empty, "");
    const r = runModtrace(["stats", empty]);
    expect(r.stdout.split("\n")[0]).toBe("0 events in 0 file(s)");
    expect(r.stdout).not.toContain(" - to - ");
  });

  test("findings -o cbor writes a log that read, stats and findings take: the same findings back, byte for byte", () => {
    const logs = ["db-1", "web-1", "web-2"].flatMap((h) => [`tests/fixtures/vm/${h}`]).flatMap((d) => Bun.spawnSync(["sh", "-c", `ls ${d}/*.cbor`]).stdout.toString().trim().split("\n"));
    const dir = mkdtempSync(join(tmpdir(), "modtrace-findings-log-"));
    const log = join(dir, "findings.cbor");
    expect(runModtrace(["findings", ...logs, "-o", `cbor:${log}`]).exitCode).toBe(0);
    const direct = runModtrace(["findings", ...logs, "-o", "json"]);
    const again = runModtrace(["findings", log, "-o", "json"]);
    expect(direct.stdout.split("\n").length).toBeGreaterThan(3);
    expect({ code: again.exitCode, out: again.stdout }).toEqual({ code: 0, out: direct.stdout });
    const read = runModtrace(["read", log, "-o", "json"]);
    expect({ code: read.exitCode, out: read.stdout }).toEqual({ code: 0, out: direct.stdout });
    const stats = runModtrace(["stats", log]);
    expect(stats.exitCode).toBe(0);
    expect(stats.stdout).not.toContain("without a trailer");
  });

  test("stats of good logs, a missing one and random bytes: what could be read, the rest named, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "modtrace-stats-"));
    const noise = join(dir, "noise.cbor");
    writeFileSync(noise, randomBytes(4096));
    const alone = JSON.parse(runModtrace(["stats", "--json", "tests/fixtures/kernel-6.18.cbor"]).stdout);
    const r = runModtrace(["stats", "--json", "tests/fixtures/kernel-6.18.cbor", join(dir, "missing.cbor"), noise]);
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 1, events: alone.events });
    expect(r.stderr).toContain(`${join(dir, "missing.cbor")}: no such file: not read`);
  });

  // Nothing on standard output (not even the text header) before the input is known readable.
  for (const [what, args, message] of [
    ["a missing log", ["read", "/nonexistent/modtrace.cbor"], "/nonexistent/modtrace.cbor: no such file"],
    ["a directory", ["read", "tests/fixtures/"], "is a directory"],
    ["a missing log among good ones", ["read", "tests/fixtures/kernel-6.18.cbor", "/nonexistent.cbor", "-o", "json"], "/nonexistent.cbor: no such file"],
    ["stats of a missing log", ["stats", "/nonexistent.cbor"], "/nonexistent.cbor: no such file"],
  ] as const)
    test(`read and stats refuse ${what} before printing anything`, () => {
      const r = runModtrace(args);
      expect(r).toMatchObject({ exitCode: 1, stdout: "" });
      expect(r.stderr).toContain(message);
    });
});
