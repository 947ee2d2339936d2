// modprobe_path_changed: the program the kernel runs as root, with a full
// set of capabilities, for every module autoload request (modprobe_path,
// shown as /proc/sys/kernel/modprobe). Overwriting it is the classic way from
// a kernel write primitive to root code, and a quiet foothold: any user can
// make the kernel run it (a socket of an unloaded family). Two views: the
// sysctl, and the variable itself read through /proc/kcore; a rootkit that
// makes the sysctl show the stock path cannot also change what kcore reads
// without hooking it too.
//
// It reports a helper that is none of the known module tools (moduleTools,
// modprobePaths in lists.json), at the first scan (in place when the capture
// started) or later, and the two views disagreeing. It cannot see a value set
// and put back between two scans (--scan-interval), the kernel's other
// usermode helpers (core_pattern, uevent_helper, poweroff_cmd), or a kernel
// that lies to kcore as well.
import { existsSync, readFileSync } from "node:fs";
import type { FindingsConfig } from "../config";
import type { EventView } from "../event-view";
import type { Finding } from "../finding";
import type { KernelWatch } from "../watch";
import { parseKallsyms, showsAddresses, symbolExtent } from "./kallsyms";
import { readKernel } from "./kcore";

export const RULE = "modprobe_path_changed";

/** KMOD_PATH_LEN: the size of the kernel's modprobe_path. */
const KMOD_PATH_LEN = 256;

export interface ModprobePathOptions {
  sysctl?: string;
  kcore?: string;
  kallsyms?: string;
}

/** The string up to its first NUL. */
export function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Whether a helper path is a module tool or turns autoloading off (empty). */
export function knownHelper(path: string, config: Pick<FindingsConfig, "moduleTools" | "modprobePaths">): boolean {
  return path === "" || config.moduleTools.includes(path) || config.modprobePaths.includes(path);
}

export function modprobePathWatch(config: Pick<FindingsConfig, "moduleTools" | "modprobePaths">, opts: ModprobePathOptions = {}): KernelWatch {
  const sysctl = opts.sysctl ?? "/proc/sys/kernel/modprobe";
  const kcore = opts.kcore ?? "/proc/kcore";
  const kallsyms = opts.kallsyms ?? "/proc/kallsyms";
  if (!existsSync(sysctl)) return { rule: RULE, unavailable: `no ${sysctl}: this kernel has no module autoloading`, observe() {}, scan() {} };
  const readSysctl = () => readFileSync(sysctl, "utf8").replace(/\n$/, "");
  // The second view, where the kernel lets root read itself.
  let variable: { addr: bigint } | undefined;
  let secondView = `none: no ${kcore}`;
  if (existsSync(kcore)) {
    try {
      const syms = parseKallsyms(readFileSync(kallsyms, "utf8"));
      const sym = showsAddresses(syms) ? symbolExtent(syms, "modprobe_path") : undefined;
      if (sym) variable = { addr: sym.addr };
      else secondView = `none: ${kallsyms} shows no address of modprobe_path`;
    } catch (e) {
      secondView = `none: ${(e as Error).message}`;
    }
  }
  const readVariable = variable && (() => cString(readKernel(kcore, [{ addr: variable!.addr, len: KMOD_PATH_LEN }])[0]));
  const atStart = readSysctl();
  const reported = new Set<string>();
  let scans = 0;

  const finding = (nowNs: bigint, description: string, details: Record<string, unknown>): Finding => ({
    rule: RULE,
    severity: "critical",
    techniques: ["T1547.006", "T1068"],
    description,
    timestamp: nowNs,
    evidence: [],
    details: { ...details, atStart, secondView: readVariable ? "kcore" : secondView },
  });

  return {
    rule: RULE,
    observe(_e: EventView) {},
    scan(nowNs: bigint, report: (f: Finding) => void) {
      const first = scans++ === 0;
      const shown = readSysctl();
      const real = readVariable ? readVariable() : undefined;
      const once = (key: string, f: () => Finding) => {
        if (reported.has(key)) return;
        reported.add(key);
        report(f());
      };
      if (real !== undefined && real !== shown) {
        once(`views ${shown}\0${real}`, () =>
          finding(nowNs, `the kernel's modprobe_path is ${JSON.stringify(real)}, but ${sysctl} shows ${JSON.stringify(shown)}: something hides the helper the kernel runs as root for every autoload request`, {
            path: real,
            sysctl: shown,
            view: "kcore",
          }),
        );
        return;
      }
      if (knownHelper(shown, config)) return;
      const inPlaceAtStart = first && shown === atStart;
      const when = inPlaceAtStart ? "in place when the capture started" : `changed during the capture (it was ${JSON.stringify(atStart)})`;
      once(`path ${shown}`, () =>
        finding(nowNs, `the kernel runs ${JSON.stringify(shown)} as root for every module autoload request (modprobe_path), and it is no module tool; ${when}; any user can make the kernel run it`, {
          path: shown,
          inPlaceAtStart,
          view: readVariable ? "sysctl and kcore" : "sysctl",
        }),
      );
    },
  };
}
