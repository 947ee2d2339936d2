// The build survives a package mirror that lists a source version it does not
// serve: loader/build-deps.sh, told that zlib's newest listed version is
// unavailable (MODTRACE_DEPS_REFUSE, as a 404 would), must fall back to the
// next version the signed index lists, say so, and give libraries that a
// whole build links and the unit tier passes with.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");
const scratch = mkdtempSync(join(tmpdir(), "modtrace-deps-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sh(cmd: string, opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync("bash", ["-c", cmd], {
    cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env }, encoding: "utf8", maxBuffer: 64 << 20,
  });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

function newer(a: string, b: string) {
  return sh(`dpkg --compare-versions '${a}' gt '${b}'`).code === 0;
}

test("zlib's first choice unavailable: an older listed version is built, and a build with it passes the unit tier", () => {
  const deps = join(scratch, "deps");
  const r = sh(`loader/build-deps.sh ${deps}`, { env: { MODTRACE_DEPS_REFUSE: "zlib" } });
  expect({ code: r.code, err: r.code === 0 ? "" : r.err }).toEqual({ code: 0, err: "" });

  // It says which version it used and why it passed the newer one over.
  const used = /^build-deps\.sh: source zlib (\S+)$/m.exec(r.err)?.[1];
  const passed = /^build-deps\.sh:\s+passed over (\S+): refused by MODTRACE_DEPS_REFUSE$/m.exec(r.err)?.[1];
  expect(used).toBeDefined();
  expect(passed).toBeDefined();
  expect(newer(passed!, used!)).toBe(true);
  expect(readFileSync(join(deps, "src/zlib.version"), "utf8").trim()).toBe(used!);
  expect(readFileSync(join(deps, "prefix/include/modtrace-deps.h"), "utf8")).toContain(`zlib ${used}"`);

  // A whole build from the tracked files, linked with those libraries, and its unit tier.
  const tree = join(scratch, "repo");
  const copy = sh(`mkdir -p ${tree} && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t ${tree}`);
  expect(copy.err).toBe("");
  symlinkSync(join(REPO, "node_modules"), join(tree, "node_modules"));
  const build = sh(`make --no-print-directory -j2 DEPS=${deps}/prefix all tests/trigger`, { cwd: tree });
  expect({ code: build.code, err: build.code === 0 ? "" : build.err }).toEqual({ code: 0, err: "" });
  const version = sh("dist/modtrace --version", { cwd: tree });
  expect(version.out).toContain(`zlib ${used} `);
  const unit = sh(`${process.execPath} test --timeout 120000 tests/unit`, { cwd: tree, env: { MODTRACE_DEPS_CACHE: deps } });
  const summary = /^\s*(\d+) pass\n\s*(\d+) fail$/m.exec(unit.err);
  expect({ code: unit.code, signal: unit.signal, fail: summary?.[2], tail: unit.code === 0 ? "" : unit.err.slice(-3000) })
    .toEqual({ code: 0, signal: null, fail: "0", tail: "" });
  expect(Number(summary?.[1])).toBeGreaterThan(50);
}, 900_000);
