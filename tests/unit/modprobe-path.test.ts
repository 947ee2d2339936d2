// The modprobe_path_changed watch on a synthetic kernel: a sysctl file, and a
// kcore-like file whose one segment holds the kernel's modprobe_path (the
// second view), named by a kallsyms text.
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findingsConfig } from "../../findings/config";
import type { Finding } from "../../findings/finding";
import { modprobePathWatch } from "../../findings/watches/modprobe-path";
import { elfHeader } from "../lib/fake-kcore";

const BASE = 0xffffffff82000000n;
const DATA_AT = 0x1000;
const VARIABLE = BASE + 0x40n;
const config = findingsConfig();

/** A kernel whose sysctl shows `shown` and whose variable holds `real`. */
function kernel(shown: string, real = shown) {
  const dir = mkdtempSync(join(tmpdir(), "modtrace-modprobe-"));
  const k = { dir, sysctl: join(dir, "modprobe"), kcore: join(dir, "kcore"), kallsyms: join(dir, "kallsyms") };
  const set = (s: string, r = s) => {
    writeFileSync(k.sysctl, `${s}\n`);
    const file = new Uint8Array(DATA_AT + 0x400);
    file.set(elfHeader(BASE, 0x400n, BigInt(DATA_AT)));
    file.set(new TextEncoder().encode(`${r}\0`), DATA_AT + 0x40);
    writeFileSync(k.kcore, file);
  };
  set(shown, real);
  const hex = (a: bigint) => a.toString(16).padStart(16, "0");
  writeFileSync(k.kallsyms, [`${hex(BASE)} D _sdata`, `${hex(VARIABLE)} D modprobe_path`, `${hex(VARIABLE + 256n)} D something_after`, ""].join("\n"));
  return { ...k, set };
}

function scan(w: ReturnType<typeof modprobePathWatch>): Finding[] {
  const found: Finding[] = [];
  w.scan(1n, (f) => found.push(f));
  return found;
}

test("a stock helper, or autoloading turned off: nothing", () => {
  for (const path of ["/sbin/modprobe", "/usr/sbin/modprobe", ""]) {
    const k = kernel(path);
    const w = modprobePathWatch(config, k);
    expect(w.unavailable).toBeUndefined();
    expect(scan(w)).toEqual([]);
  }
});

test("a helper that is no module tool, in place at the start: critical, once", () => {
  const k = kernel("/tmp/x");
  const w = modprobePathWatch(config, k);
  const [f, ...rest] = scan(w);
  expect(rest).toEqual([]);
  expect([f.rule, f.severity, f.details.path, f.details.inPlaceAtStart, f.details.secondView]).toEqual(["modprobe_path_changed", "critical", "/tmp/x", true, "kcore"]);
  expect(f.description).toContain("in place when the capture started");
  expect(scan(w)).toEqual([]); // said once
});

test("changed during the capture: the new path and what it was; changed again: said again", () => {
  const k = kernel("/sbin/modprobe");
  const w = modprobePathWatch(config, k);
  expect(scan(w)).toEqual([]);
  k.set("/dev/shm/helper");
  const [f] = scan(w);
  expect([f.details.path, f.details.inPlaceAtStart, f.details.atStart]).toEqual(["/dev/shm/helper", false, "/sbin/modprobe"]);
  expect(f.description).toContain('changed during the capture (it was "/sbin/modprobe")');
  k.set("/var/tmp/other");
  expect(scan(w).map((x) => x.details.path)).toEqual(["/var/tmp/other"]);
});

test("the sysctl shows the stock path, the variable holds another: one finding, with both views", () => {
  const k = kernel("/sbin/modprobe", "/tmp/evil");
  const found = scan(modprobePathWatch(config, k));
  expect(found.map((f) => [f.details.view, f.details.path, f.details.sysctl])).toEqual([["kcore", "/tmp/evil", "/sbin/modprobe"]]);
  expect(found[0].description).toContain('but ' + k.sysctl + ' shows "/sbin/modprobe"');
});

test("a path the config adds (modprobePaths) is known", () => {
  const k = kernel("/opt/tools/modprobe");
  const extra = { ...config, modprobePaths: [...config.modprobePaths, "/opt/tools/modprobe"] };
  expect(scan(modprobePathWatch(extra, k))).toEqual([]);
});

test("no kcore: the sysctl alone, and the finding says there was no second view", () => {
  const k = kernel("/tmp/x");
  const [f] = scan(modprobePathWatch(config, { ...k, kcore: join(k.dir, "absent") }));
  expect(f.details.secondView).toStartWith("none: no ");
});

test("no sysctl: the kernel has no autoloading, and the watch says so", () => {
  const w = modprobePathWatch(config, { sysctl: "/nonexistent/modprobe" });
  expect(w.unavailable).toContain("no module autoloading");
});

test("a module tool whose file is not what its package installed (dpkg's md5sums, the file behind every symlink): critical, once per content", () => {
  const dir = mkdtempSync(join(tmpdir(), "modtrace-helper-file-"));
  const tool = join(dir, "kmod");
  const link = join(dir, "modprobe");
  writeFileSync(tool, "the package's kmod");
  symlinkSync(tool, link);
  const info = join(dir, "info");
  mkdirSync(info);
  const md5 = (s: string) => createHash("md5").update(s).digest("hex");
  // As dpkg writes it: relative, and before the /usr merge (usr/ left out here).
  writeFileSync(join(info, "kmod:amd64.md5sums"), `${md5("a doc")}  usr/share/doc/kmod/README\n${md5("the package's kmod")}  ${tool.replace(/^\/(usr\/)?/, "")}\n`);
  const k = kernel(link);
  const w = modprobePathWatch(findingsConfig({ moduleTools: [link] }), { ...k, dpkgInfo: info });
  expect(scan(w)).toEqual([]);
  writeFileSync(tool, "a kmod with something ad");
  // Read while being written, then whole: said once the same bytes are read twice in a row.
  expect(scan(w)).toEqual([]);
  writeFileSync(tool, "a kmod with something added");
  expect(scan(w)).toEqual([]);
  const [f, ...rest] = scan(w);
  expect(rest).toEqual([]);
  expect([f.rule, f.severity, f.details!.path, f.details!.file, f.details!.fileChanged, f.details!.package, f.details!.md5, f.details!.packageMd5]).toEqual([
    "modprobe_path_changed", "critical", link, tool, true, "kmod", md5("a kmod with something added"), md5("the package's kmod"),
  ]);
  expect(scan(w)).toEqual([]); // said once
  writeFileSync(tool, "the package's kmod");
  expect(scan(w)).toEqual([]); // put back
  // A FIFO in the packaged file's place: nothing read, nothing held (the scan returns).
  rmSync(tool);
  expect(spawnSync("mkfifo", [tool]).status).toBe(0);
  expect(scan(w)).toEqual([]);
  // No record of the file (no dpkg, or no package lists it): nothing to hold it against.
  expect(scan(modprobePathWatch(findingsConfig({ moduleTools: [link] }), { ...k, dpkgInfo: join(dir, "none") }))).toEqual([]);
});
