// modtrace scan on an rpm host (rpm and rpmbuild: ./build.sh test installs Debian's rpm): the package's record of a module file, asked
// of Debian's rpm (the same rpm as Fedora's) with a database of the test's
// own, holding a package built here with rpmbuild whose one file lies under
// lib/modules, a compressed module as rpm distributions ship them. The
// record's sha256 is checked against node:crypto's of the file, and the
// scan's verdict on the file as installed and as changed after.
import { afterAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rpmModuleRecords } from "../../findings/rpm-records";
import { moduleFindings } from "../../scan/module-checks";
import { fileFacts, type FileFacts } from "../../scan/module-files";
import type { LoadedModule } from "../../findings/watches/loaded-modules";

const dir = mkdtempSync(join(tmpdir(), "modtrace-rpm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODULE_PATH = "/lib/modules/9.9.9-mt/extra/mt_rpm.ko.xz";

function sh(cmd: string[]) {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stderr}${r.stdout}`);
}

/** A package mt-rpm-test owning MODULE_PATH, in a database of its own; the file's bytes. */
function installedPackage(): { db: string; file: string } {
  const sources = join(dir, "src");
  mkdirSync(sources, { recursive: true });
  const file = join(sources, "mt_rpm.ko.xz");
  writeFileSync(file, `module bytes ${process.pid}\n`);
  const spec = join(dir, "mt.spec");
  writeFileSync(
    spec,
    `Name: mt-rpm-test\nVersion: 1\nRelease: 1\nSummary: a module file\nLicense: MIT\nBuildArch: noarch\n%description\nA module file for modtrace's tests.\n` +
      `%install\nmkdir -p %{buildroot}${MODULE_PATH.replace(/\/[^/]+$/, "")}\ncp %{_sourcedir}/mt_rpm.ko.xz %{buildroot}${MODULE_PATH}\n%files\n${MODULE_PATH}\n`,
  );
  sh(["rpmbuild", "-bb", "--define", `_topdir ${join(dir, "top")}`, "--define", `_sourcedir ${sources}`, spec]);
  const rpms = join(dir, "top/RPMS/noarch");
  const db = join(dir, "db");
  mkdirSync(db);
  // --justdb: the record alone, no file written under /lib/modules.
  sh(["rpm", "--dbpath", db, "-i", "--justdb", "--nodeps", join(rpms, readdirSync(rpms)[0])]);
  return { db, file };
}

test("rpm's record of a module file is its sha256, by the package that installed it; the scan calls the file as installed fine, and a changed one module_file_changed", () => {
  const { db, file } = installedPackage();
  const records = rpmModuleRecords(db);
  if (typeof records === "string") throw new Error(records);
  const sha256 = createHash("sha256").update(readFileSync(file)).digest("hex");
  expect([...records]).toEqual([[MODULE_PATH, { package: "mt-rpm-test", sha256 }]]);

  const module: LoadedModule = { name: "mt_rpm", size: 4096, users: 0, state: "Live", address: null, taints: "", signature: "unchecked" };
  const record = records.get(MODULE_PATH);
  const facts = (): FileFacts => ({ ...(fileFacts(file) as FileFacts), path: MODULE_PATH });
  expect(moduleFindings({ module, found: { file: facts(), record }, recordsKnown: true }, 0n)).toEqual([]);
  appendFileSync(file, "a byte more\n");
  const changed = moduleFindings({ module, found: { file: facts(), record }, recordsKnown: true }, 0n);
  expect(changed.map((f) => [f.rule, f.severity, f.details?.package, f.details?.packageSha256, f.details?.sha256 === sha256])).toEqual([
    ["module_file_changed", "high", "mt-rpm-test", sha256, false],
  ]);
  expect(changed[0].description).toContain(`the package's ${sha256}`);
});

test("no rpm to ask: the scan says there are no package records, and why, rather than call every file unpackaged", () => {
  const records = rpmModuleRecords(undefined, join(dir, "no-such-rpm"));
  expect(records).toBeTypeOf("string");
  expect(records).toContain("rpm cannot be run (ENOENT)");
});
