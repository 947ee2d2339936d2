// The rules' data (lists.json) merged with what the user adds: a
// --findings-config file of the same shape, --module-tool and --disable-rule.
import { readFileSync } from "node:fs";
import defaults from "./lists.json";
import { isSeverity, type Severity } from "./finding";

export interface RareAutoload {
  request: string; // module_request's name (an alias), or its prefix up to a '-'
  module: string;
  cves: string[];
}

export interface FindingsConfig {
  disabledRules: string[];
  severity: Record<string, Severity>;
  moduleTools: string[];
  /** Kernel functions rootkits hook to hide files, processes, modules or sockets (kprobe_on_sensitive). */
  hookedFunctions: string[];
  /** Helper paths besides moduleTools that modprobe_path may hold (a distribution's own). */
  modprobePaths: string[];
  /** Programs besides moduleTools a kernel runs of its own accord on a healthy host (kernel_ran_program). */
  kernelHelpers: string[];
  moduleDirs: string[];
  writableDirs: string[];
  /** kexec-tools, which kdump's crash-kernel service and `systemctl kexec` run. */
  kexecTools: string[];
  /** Where a distribution's kernels live (a kexec_file_load from elsewhere is not one of them). */
  kernelDirs: string[];
  probing: { failures: number; windowSeconds: number };
  hitAndRunSeconds: number;
  /** Findings of one rule from one caller written apart per window; the rest are folded into one. */
  rateLimit: { findingsPerCaller: number; windowSeconds: number };
  securityModules: string[];
  rareAutoload: RareAutoload[];
}

export class ConfigError extends Error {}

const LISTS = ["disabledRules", "moduleTools", "hookedFunctions", "modprobePaths", "kernelHelpers", "moduleDirs", "writableDirs", "kexecTools", "kernelDirs", "securityModules", "rareAutoload"] as const;

function checkSeverities(s: Record<string, unknown>, where: string) {
  for (const [k, v] of Object.entries(s))
    if (typeof v !== "string" || !isSeverity(v)) throw new ConfigError(`${where}: severity of ${k} must be info, low, medium, high or critical, got ${JSON.stringify(v)}`);
}

/** The defaults, then the file's additions, then the flags'. */
export function findingsConfig(extra: { file?: string; moduleTools?: string[]; disabledRules?: string[] } = {}): FindingsConfig {
  const c: FindingsConfig = structuredClone(defaults) as unknown as FindingsConfig;
  if (extra.file) {
    let user: any;
    try {
      user = JSON.parse(readFileSync(extra.file, "utf8"));
    } catch (e) {
      throw new ConfigError(`--findings-config ${extra.file}: ${(e as Error).message}`);
    }
    if (!user || typeof user !== "object" || Array.isArray(user)) throw new ConfigError(`--findings-config ${extra.file}: not a JSON object`);
    const known = new Set([...Object.keys(c), "about"]);
    for (const k of Object.keys(user)) if (!known.has(k)) throw new ConfigError(`--findings-config ${extra.file}: unknown key '${k}' (known: ${[...known].join(", ")})`);
    for (const k of LISTS) {
      if (user[k] === undefined) continue;
      if (!Array.isArray(user[k])) throw new ConfigError(`--findings-config ${extra.file}: ${k} must be a list`);
      (c[k] as unknown[]).push(...user[k]);
    }
    if (user.severity) {
      checkSeverities(user.severity, `--findings-config ${extra.file}`);
      Object.assign(c.severity, user.severity);
    }
    if (user.probing) Object.assign(c.probing, user.probing);
    if (user.rateLimit) Object.assign(c.rateLimit, user.rateLimit);
    if (user.hitAndRunSeconds !== undefined) c.hitAndRunSeconds = Number(user.hitAndRunSeconds);
  }
  c.moduleTools.push(...(extra.moduleTools ?? []));
  c.disabledRules.push(...(extra.disabledRules ?? []));
  checkSeverities(c.severity, "lists.json");
  return c;
}
