// modtrace scan's pieces on texts and files written here: /proc/modules
// lines, modules.dep, dpkg's md5sums, a module file's srcversion, and the
// verdict each combination gives. The kernel side (hooks, hiders) is the
// watches', tested on their own and in the VM tier with real modules.
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadedModules, parseModuleLine } from "../../findings/watches/loaded-modules";
import { fileFacts, fileSrcversion, moduleNameOf, parseModulesDep } from "../../scan/module-files";
import { canonicalModulePath, packageRecords } from "../../findings/package-records";
import { moduleFindings } from "../../scan/module-checks";

test("a /proc/modules line: size, users, state, address (none when hidden by kptr_restrict), taint letters", () => {
  expect(parseModuleLine("mt_plain 16384 0 - Live 0xffffffffc0a00000 (OE)")).toEqual({ name: "mt_plain", size: 16384, users: 0, state: "Live", address: "0xffffffffc0a00000", taints: "OE" });
  expect(parseModuleLine("8021q 40960 0 - Live 0x0000000000000000")).toMatchObject({ address: null, taints: "" });
  expect(parseModuleLine("going 16384 1 dep, Unloading 0xffffffffc0c00000 (O-)")).toMatchObject({ state: "Unloading", taints: "O", users: 1 });
  expect(parseModuleLine("")).toBeUndefined();
});

test("loaded modules with sysfs: srcversion, and the signature state the kernel implies", () => {
  const dir = mkdtempSync(join(tmpdir(), "scan-"));
  const sys = join(dir, "sys");
  for (const m of ["stock", "oot"]) mkdirSync(join(sys, m), { recursive: true });
  writeFileSync(join(sys, "stock/srcversion"), "ABC123\n");
  const proc = join(dir, "modules");
  writeFileSync(proc, "stock 16384 0 - Live 0xffffffffc0a00000\noot 16384 0 - Live 0xffffffffc0b00000 (OE)\n");
  // No module/parameters/sig_enforce: this kernel does not check signatures.
  expect(loadedModules({ procModules: proc, sysModule: sys })!.map((m) => [m.name, m.signature, m.srcversion ?? null])).toEqual([["oot", "unsigned", null], ["stock", "unchecked", "ABC123"]]);
  mkdirSync(join(sys, "module/parameters"), { recursive: true });
  writeFileSync(join(sys, "module/parameters/sig_enforce"), "N\n");
  expect(loadedModules({ procModules: proc, sysModule: sys })!.map((m) => m.signature)).toEqual(["unsigned", "signed"]);
  expect(loadedModules({ procModules: join(dir, "none"), sysModule: sys })).toBeUndefined();
});

test("modules.dep names each module's file, as the kernel spells the name", () => {
  const dep = parseModulesDep("kernel/net/8021q/8021q.ko: kernel/net/802/garp.ko\nkernel/drivers/hid/hid-generic.ko.xz:\nupdates/dkms/zfs.ko.zst: updates/dkms/spl.ko.zst\n", "/lib/modules/6.1.0-x");
  expect([...dep]).toEqual([
    ["8021q", "/lib/modules/6.1.0-x/kernel/net/8021q/8021q.ko"],
    ["hid_generic", "/lib/modules/6.1.0-x/kernel/drivers/hid/hid-generic.ko.xz"],
    ["zfs", "/lib/modules/6.1.0-x/updates/dkms/zfs.ko.zst"],
  ]);
  expect(moduleNameOf("a/b/snd-hda-intel.ko.gz")).toBe("snd_hda_intel");
});

test("dpkg's md5sums: only module files, keyed the same with or without /usr", () => {
  const info = mkdtempSync(join(tmpdir(), "dpkg-"));
  writeFileSync(join(info, "linux-image-6.1.0-x-amd64.md5sums"), `${"a".repeat(32)}  lib/modules/6.1.0-x/kernel/net/8021q/8021q.ko\n${"b".repeat(32)}  boot/vmlinuz-6.1.0-x\n`);
  writeFileSync(join(info, "zfs-modules:amd64.md5sums"), `${"c".repeat(32)}  usr/lib/modules/6.1.0-x/updates/zfs.ko\n`);
  writeFileSync(join(info, "bash.list"), "/bin/bash\n");
  const records = packageRecords(info);
  expect(records instanceof Map && [...records]).toEqual([
    ["/lib/modules/6.1.0-x/kernel/net/8021q/8021q.ko", { package: "linux-image-6.1.0-x-amd64", md5: "a".repeat(32) }],
    ["/lib/modules/6.1.0-x/updates/zfs.ko", { package: "zfs-modules", md5: "c".repeat(32) }],
  ]);
  expect(canonicalModulePath("/usr/lib/modules/x/y.ko")).toBe("/lib/modules/x/y.ko");
  expect(packageRecords(join(info, "missing"))).toContain("no package records");
});

test("a module file's facts: hashes, and the srcversion of its .modinfo when not compressed", () => {
  const dir = mkdtempSync(join(tmpdir(), "ko-"));
  const bytes = Buffer.concat([Buffer.from("\x7fELF junk"), Buffer.from("\0license=GPL\0srcversion=5F3C0DD52E4A\0depends=\0")]);
  writeFileSync(join(dir, "m.ko"), bytes);
  writeFileSync(join(dir, "m.ko.xz"), bytes);
  expect(fileSrcversion(bytes)).toBe("5F3C0DD52E4A");
  expect(fileFacts(join(dir, "m.ko"))).toEqual({ path: join(dir, "m.ko"), sha256: createHash("sha256").update(bytes).digest("hex"), md5: createHash("md5").update(bytes).digest("hex"), compressed: false, srcversion: "5F3C0DD52E4A" });
  expect(fileFacts(join(dir, "m.ko.xz"))).toMatchObject({ compressed: true });
  expect((fileFacts(join(dir, "m.ko.xz")) as any).srcversion).toBeUndefined();
  expect(fileFacts(join(dir, "gone.ko"))).toContain("cannot read");
});

test("verdicts: a file as its package installed it is clean; changed, unpackaged, another build, or no file at all are findings", () => {
  const m = { name: "8021q", size: 40960, users: 0, state: "Live", address: null, taints: "", signature: "signed" as const, srcversion: "AAA" };
  const file = { path: "/lib/modules/x/8021q.ko", sha256: "s", md5: "1".repeat(32), compressed: false, srcversion: "AAA" };
  const rules = (found: any, recordsKnown = true, module: any = m) => moduleFindings({ module, found, recordsKnown }, 1n).map((f) => [f.rule, f.severity]);
  expect(rules({ file, record: { package: "linux-image", md5: "1".repeat(32) } })).toEqual([]);
  expect(rules({ file, record: { package: "linux-image", md5: "2".repeat(32) } })).toEqual([["module_file_changed", "high"]]);
  expect(rules({ file })).toEqual([["module_without_package", "low"]]);
  expect(rules({ file }, false)).toEqual([]); // no dpkg here: nothing to hold it against
  expect(rules({ file, record: { package: "linux-image", md5: "1".repeat(32) } }, true, { ...m, srcversion: "BBB" })).toEqual([["module_differs_from_file", "high"]]);
  expect(rules({ why: "modules.dep names no file for it" })).toEqual([["module_without_file", "medium"]]);
});
