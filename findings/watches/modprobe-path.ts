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
// started) or later, the two views disagreeing, and a module tool whose file
// (after every symlink) is not what its package installed (dpkg's md5sums).
// It cannot see a value set and put back between two scans (--scan-interval:
// the kernel running it is call_usermodehelper's, kernel_ran_program), a
// tool's file changed and put back between two scans, or a kernel that lies
// to kcore as well.
import { closeSync, existsSync, fstatSync, readFileSync, realpathSync, statSync } from "node:fs";
import { digestFd, openNonBlocking } from "../../images/executed";
import { packageRecordOf, type DpkgRecord } from "../package-records";
import type { FindingsConfig } from "../config";
import type { EventView } from "../../record/event-view";
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
  /** dpkg's database (package records of the helper's file). */
  dpkgInfo?: string;
}

/** The helper's file against its package's record: hashed again only when
 * its identity or size or time changes, the package looked up once per file. */
function helperFileCheck(infoDir: string) {
  const records = new Map<string, DpkgRecord | undefined>();
  let seen: { key: string; md5: string } | undefined;
  return (helper: string): { file: string; md5: string; record: DpkgRecord } | undefined => {
    let file: string;
    let key: string;
    try {
      file = realpathSync(helper);
      const st = statSync(file, { bigint: true });
      key = `${file}\0${st.dev}\0${st.ino}\0${st.size}\0${st.mtimeNs}\0${st.ctimeNs}`;
    } catch {
      return undefined; // no such file: the kernel's request fails, and runs nothing
    }
    if (!records.has(file)) records.set(file, packageRecordOf(file, infoDir));
    const record = records.get(file);
    if (!record) return undefined;
    if (seen?.key !== key) {
      // Read in pieces, and only a regular file: a FIFO or a huge file put in
      // the packaged file's place must not hold the capture's scan.
      const fd = openNonBlocking(file);
      if (fd === undefined) return undefined;
      try {
        const digest = fstatSync(fd).isFile() ? digestFd(fd, "md5") : undefined;
        if (!digest) return undefined;
        seen = { key, md5: Buffer.from(digest.digest).toString("hex") };
      } catch {
        return undefined;
      } finally {
        closeSync(fd);
      }
    }
    return { file, md5: seen.md5, record };
  };
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
  const checkFile = helperFileCheck(opts.dpkgInfo ?? "/var/lib/dpkg/info");
  const reported = new Set<string>();
  /** The md5 of the helper's file at the last scan, when it was not the package's. */
  let lastChanged: string | undefined;
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
      if (knownHelper(shown, config)) {
        const file = shown === "" ? undefined : checkFile(shown);
        // Said once the same changed bytes are read at two scans in a row: a
        // scan that reads the file while it is being written (a copy in
        // place) is not its content.
        const changed = file && file.md5 !== file.record.md5 ? file.md5 : undefined;
        const steady = changed !== undefined && changed === lastChanged;
        lastChanged = changed;
        if (file && steady)
          once(`file ${file.file}\0${file.md5}`, () =>
            finding(nowNs, `the kernel's autoload helper ${JSON.stringify(shown)} is ${file.file}, and that is not the file package ${file.record.package} installed (md5 ${file.md5}, its record ${file.record.md5}); any user can make the kernel run it as root`, {
              path: shown,
              file: file.file,
              fileChanged: true,
              package: file.record.package,
              md5: file.md5,
              packageMd5: file.record.md5,
              inPlaceAtStart: first,
              view: "package",
            }),
          );
        return;
      }
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
