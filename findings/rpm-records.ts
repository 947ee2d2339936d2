// What rpm recorded of each module file, for hosts whose packages are rpms
// (Fedora, RHEL and their kin): the digest of every file of every installed
// package, as `rpm -V` checks it, asked of rpm itself in one query. rpm has
// kept sha256 digests since 4.6 (2009); a package with another algorithm's
// (md5 in very old ones, sha512 in some) gives no record here. A module
// compressed on disk (.ko.xz) is recorded compressed, and hashed so.
import { spawnSync } from "node:child_process";
import { canonicalModulePath, type PackageRecord } from "./package-records";

// rpmfiles' PGPHASHALGO numbers.
const ALGORITHMS: Record<string, "md5" | "sha256"> = { "1": "md5", "8": "sha256" };

/** path -> record, for the files under lib/modules of every installed rpm;
 * an error text where rpm cannot be asked. dbpath: another database (tests). */
export function rpmModuleRecords(dbpath?: string, rpm = "rpm"): Map<string, PackageRecord> | string {
  const r = spawnSync(rpm, [...(dbpath ? ["--dbpath", dbpath] : []), "-qa", "--qf", "[%{FILENAMES}\\t%{FILEDIGESTS}\\t%{=FILEDIGESTALGO}\\t%{=NAME}\\n]"], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.error) return `no package records: no dpkg database, and rpm cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}): file hashes are not checked against a package`;
  if (r.status !== 0) return `no package records: rpm -qa failed (${r.status}): ${r.stderr.trim().split("\n").at(-1)}`;
  const records = new Map<string, PackageRecord>();
  for (const line of r.stdout.split("\n")) {
    if (!line.includes("lib/modules/")) continue;
    const [path, digest, algorithm, pkg] = line.split("\t");
    const alg = ALGORITHMS[algorithm];
    if (!digest || !alg) continue; // a directory, or a digest of another kind
    records.set(canonicalModulePath(path), alg === "md5" ? { package: pkg, md5: digest } : { package: pkg, sha256: digest });
  }
  return records;
}
