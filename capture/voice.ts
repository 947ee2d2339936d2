// What a capture says on stderr, and the live status line it shares the
// terminal with.
import type { CaptureStatus } from "../output/capture-status";

// --quiet: stderr keeps only what must be seen there: warnings (a capture
// tampered with, data lost or unprotected) and the seal key, which nothing
// else gives. Errors are thrown, and main prints them.
let quiet = false;
// --status: erased before any other line reaches the terminal.
export let status: CaptureStatus | undefined;

export function say(line: string) {
  if (quiet && !line.startsWith("warning:") && !line.startsWith("seal key ")) return;
  status?.clear();
  process.stderr.write(`modtrace: ${line}\n`);
}

export function setQuiet(q: boolean) {
  quiet = q;
}

export function setStatus(s: CaptureStatus | undefined) {
  status = s;
}
