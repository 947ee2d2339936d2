// Whether modtrace was started with standard output closed (`>&-`). Bun then
// puts /dev/null there, so every write would succeed and vanish. It opens
// that /dev/null close-on-exec, which no descriptor inherited across exec can
// be; but Bun's execve clears the flag on descriptors 0-2, so entry.ts, which
// executes the binary again, hands the answer over in the environment.
import { readFileSync } from "node:fs";

export const CLOSED_STDOUT_ENV = "MODTRACE_STDOUT_WAS_CLOSED";

// Linux's value: Bun's fs.constants has no O_CLOEXEC.
const O_CLOEXEC = 0o2000000;

export function standardOutputClosed(): boolean {
  if (process.env[CLOSED_STDOUT_ENV] === "1") return true;
  try {
    const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync("/proc/self/fdinfo/1", "utf8"))?.[1];
    return flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) !== 0;
  } catch {
    return true; // no descriptor 1 at all
  }
}
