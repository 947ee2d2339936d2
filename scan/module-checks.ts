// The scan's verdicts on each loaded module against its file and its
// package: what the capture's rules cannot judge (they see loads, and these
// modules may have loaded long before), and what a responder asks first of
// a module list: did each of these come from the distribution, unchanged?
import type { Finding } from "../findings/finding";
import type { LoadedModule } from "../findings/watches/loaded-modules";
import type { FileFacts } from "./module-files";
import { canonicalModulePath, recordMatches, type PackageRecord } from "../findings/package-records";

export const MODULE_RULES = ["module_file_changed", "module_differs_from_file", "module_without_file", "module_without_package"] as const;

/** What the scan learnt of one module's file. */
export interface ModuleFile {
  /** The file modules.dep names for it, or why none can be read. */
  file?: FileFacts;
  why?: string;
  /** Its package's record of that file, when there is one. */
  record?: PackageRecord;
}

export interface ModuleVerdictInput {
  module: LoadedModule;
  found: ModuleFile;
  /** False where there are no package records at all: then no file is called unpackaged. */
  recordsKnown: boolean;
}

/** The findings of one module; the file facts also go into the scan's report. */
export function moduleFindings({ module: m, found, recordsKnown }: ModuleVerdictInput, nowNs: bigint): Finding[] {
  const base = { timestamp: nowNs, evidence: [], moduleName: m.name, techniques: ["T1547.006" as const, "T1014" as const] };
  const f = found.file;
  if (!f)
    return [{
      ...base,
      rule: "module_without_file",
      severity: "medium",
      description: `module ${m.name} is loaded, but no file of this kernel's modules (modules.dep) is it: ${found.why}; it was loaded from elsewhere (insmod of another path, or from memory)`,
      details: { why: found.why ?? "" },
    }];
  const out: Finding[] = [];
  const r = found.record;
  if (r && !recordMatches(r, f))
    out.push({
      ...base,
      rule: "module_file_changed",
      severity: "high",
      description: `the file of module ${m.name}, ${f.path}, is not what package ${r.package} installed (${"md5" in r ? `md5 ${f.md5}, the package's ${r.md5}` : `sha256 ${f.sha256}, the package's ${r.sha256}`}): changed on disk since`,
      details: { path: f.path, package: r.package, ...("md5" in r ? { md5: f.md5, packageMd5: r.md5 } : { packageSha256: r.sha256 }), sha256: f.sha256 },
    });
  if (!found.record && recordsKnown)
    out.push({
      ...base,
      rule: "module_without_package",
      severity: "low",
      description: `the file of module ${m.name}, ${f.path}, belongs to no installed package (DKMS, an out-of-tree driver, or a file put there by hand)`,
      details: { path: f.path, sha256: f.sha256 },
    });
  if (m.srcversion && f.srcversion && m.srcversion !== f.srcversion)
    out.push({
      ...base,
      rule: "module_differs_from_file",
      severity: "high",
      description: `module ${m.name} in the kernel was built from other sources (srcversion ${m.srcversion}) than its file ${f.path} (${f.srcversion}): the code running is not that file`,
      details: { path: f.path, srcversion: m.srcversion, fileSrcversion: f.srcversion, sha256: f.sha256 },
    });
  return out;
}

export const recordFor = (records: Map<string, PackageRecord> | undefined, path: string) => records?.get(canonicalModulePath(path));
