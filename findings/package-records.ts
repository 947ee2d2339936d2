// What the package manager recorded of each module file when it installed
// it: Debian's /var/lib/dpkg/info/PACKAGE.md5sums ("md5  relative/path"),
// written from the package itself, so a file changed on disk since (a
// rootkit replacing a driver to come back at boot) no longer matches. Only
// files under lib/modules are kept. Where there is no dpkg, there is no
// record, and the scan says so rather than calling every file unknown.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** dpkg's record of a file: the md5 its package's md5sums lists. */
export interface DpkgRecord {
  package: string;
  md5: string;
}

/** A package manager's record of a file: dpkg's md5, or rpm's sha256 (rpm-records.ts). */
export type PackageRecord = DpkgRecord | { package: string; sha256: string };

/** Whether a file with these digests is what its package installed. */
export const recordMatches = (record: PackageRecord, file: { md5: string; sha256: string }) => ("md5" in record ? record.md5 === file.md5 : record.sha256 === file.sha256);

/** "/lib/modules/…" for a recorded path, whether the package wrote it under /usr (merged /usr) or not. */
export const canonicalModulePath = (path: string) => path.replace(/^\/?(usr\/)?/, "/");

/** Each package's md5sums ("md5  relative/path" lines) in a dpkg database,
 * in name order, with the package's name; an error text without one. */
function md5sumsFiles(infoDir: string): Array<{ pkg: string; read: () => string | undefined }> | string {
  let names: string[];
  try {
    names = readdirSync(infoDir).filter((n) => n.endsWith(".md5sums")).sort();
  } catch (e: any) {
    return `no package records (${infoDir}: ${e.code ?? e.message}): file hashes are not checked against a package`;
  }
  return names.map((name) => ({
    pkg: name.slice(0, -".md5sums".length).replace(/:[a-z0-9]+$/, ""),
    read: () => {
      try {
        return readFileSync(join(infoDir, name), "utf8");
      } catch {
        return undefined;
      }
    },
  }));
}

/** path -> record, from the md5sums files of a dpkg database. */
export function packageRecords(infoDir = "/var/lib/dpkg/info"): Map<string, DpkgRecord> | string {
  const files = md5sumsFiles(infoDir);
  if (typeof files === "string") return files;
  const records = new Map<string, DpkgRecord>();
  for (const { pkg, read } of files) {
    const text = read();
    if (!text?.includes("lib/modules/")) continue;
    for (const line of text.split("\n")) {
      const m = /^([0-9a-f]{32}) {2}(.*lib\/modules\/.*)$/.exec(line);
      if (m) records.set(canonicalModulePath(m[2]), { package: pkg, md5: m[1] });
    }
  }
  return records;
}

/** "bin/kmod" for "/usr/bin/kmod" and "/bin/kmod": a path as a package's
 * md5sums may list it, before or after the /usr merge. */
const unmerged = (path: string) => path.replace(/^\/?(usr\/)?/, "");

/** The record of one file (the autoload helper's), from every package's
 * md5sums; undefined where no package lists it, or there is no dpkg. */
export function packageRecordOf(path: string, infoDir = "/var/lib/dpkg/info"): DpkgRecord | undefined {
  const want = unmerged(path);
  const files = md5sumsFiles(infoDir);
  if (typeof files === "string") return undefined;
  for (const { pkg, read } of files) {
    const text = read();
    if (!text?.includes(want)) continue;
    for (const line of text.split("\n")) {
      const m = /^([0-9a-f]{32}) {2}(.*)$/.exec(line);
      if (m && unmerged(m[2]) === want) return { package: pkg, md5: m[1] };
    }
  }
  return undefined;
}
