// The modules the kernel lists now, with what it says of each: the one
// /proc/modules line (size, users, state, base address, taint letters) and
// the module's sysfs directory (srcversion, version). A snapshot, not a
// verdict: the checks (module-checks.ts) and the hook watches judge it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface LoadedModule {
  name: string;
  /** Bytes of its core (text and data), as /proc/modules gives them. */
  size: number;
  /** Modules using it. */
  users: number;
  state: string; // Live, Loading, Unloading
  /** Base of its core, hex; null where kptr_restrict hides addresses. */
  address: string | null;
  /** The taint letters it carries (O out-of-tree, E unsigned, …), "" for none. */
  taints: string;
  /** unsigned (E), signed (the kernel checks signatures and found no fault),
   * or unchecked (the kernel has no module signatures). */
  signature: "signed" | "unsigned" | "unchecked";
  srcversion?: string;
  version?: string;
}

const readText = (path: string) => {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
};

/** One /proc/modules line: "name size users deps state address (taints)". */
export function parseModuleLine(line: string): Omit<LoadedModule, "signature" | "srcversion" | "version"> | undefined {
  const f = line.trim().split(/\s+/);
  if (f.length < 6) return undefined;
  const address = /^0x[0-9a-f]+$/i.test(f[5]) && !/^0x0+$/.test(f[5]) ? f[5].toLowerCase() : null;
  const taints = /\(([A-Z+-]+)\)\s*$/.exec(line)?.[1] ?? "";
  return { name: f[0], size: Number(f[1]), users: Number(f[2]), state: f[4], address, taints: taints.replace(/[+-]/g, "") };
}

export interface ModuleViews {
  procModules?: string;
  sysModule?: string;
}

/** Whether this kernel checks module signatures at all (CONFIG_MODULE_SIG). */
export function signaturesChecked(sysModule = "/sys/module"): boolean {
  return existsSync(join(sysModule, "module/parameters/sig_enforce"));
}

/** Every module /proc/modules lists, or undefined when the kernel has none to list (CONFIG_MODULES=n). */
export function loadedModules(v: ModuleViews = {}): LoadedModule[] | undefined {
  const procModules = v.procModules ?? "/proc/modules";
  const sysModule = v.sysModule ?? "/sys/module";
  const text = readText(procModules);
  if (text === undefined) return undefined;
  const checked = signaturesChecked(sysModule);
  const modules: LoadedModule[] = [];
  for (const line of text.split("\n")) {
    const m = parseModuleLine(line);
    if (!m) continue;
    const srcversion = readText(join(sysModule, m.name, "srcversion"));
    const version = readText(join(sysModule, m.name, "version"));
    const signature = m.taints.includes("E") ? "unsigned" : checked ? "signed" : "unchecked";
    modules.push({ ...m, signature, ...(srcversion && { srcversion }), ...(version && { version }) });
  }
  return modules.sort((a, b) => a.name.localeCompare(b.name));
}
