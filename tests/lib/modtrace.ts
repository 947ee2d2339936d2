// Runs dist/modtrace from the tests and says how it ended. A run killed by a
// signal (the runtime's own crash, "oh no: Bun has crashed", is a SIGSEGV or
// a SIGILL) reaches a test only as exitCode null, under an assertion that is
// often about something else: so every run killed by a signal prints that
// signal and modtrace's stderr to the test log itself, and describeEnd gives
// assertion messages the same words.
import { existsSync, realpathSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";

const BUILT = join(import.meta.dir, "../../dist/modtrace");

/** The binary under test, resolved as the tests always had it (a capture's
 * header records the path it was started by, and tests compare). Left as
 * is when not built, so that a tier that skips then can still import this. */
export const MODTRACE = existsSync(BUILT) ? realpathSync(BUILT) : BUILT;

/** How a process ended: an exit status, or the signal that killed it. */
export interface End {
  exitCode: number | null;
  signal: string | null;
}

export interface ModtraceRun extends End {
  stdout: string;
  stdoutBytes: Buffer; // for binary output (-o cbor) and byte-for-byte comparisons
  stderr: string;
}

export interface RunOptions {
  stdin?: Uint8Array;
  env?: Record<string, string | undefined>;
  timeout?: number;
  /** A command that execs modtrace (setpriv ..., sh -c 'exec "$@" >&-' sh):
   * the process stays modtrace's, so its end is modtrace's. */
  prefix?: string[];
}

/** Runs modtrace to its end, standard output and error captured (Bun's
 * spawnSync has no output limit: a read of a large log fits). */
export function runModtrace(args: readonly string[], options: RunOptions = {}): ModtraceRun {
  const { prefix = [], ...spawn } = options;
  const r = Bun.spawnSync([...prefix, MODTRACE, ...args], { ...spawn, stdout: "pipe", stderr: "pipe" });
  const signal = signalName(r.signalCode);
  const run = { exitCode: signal === null ? r.exitCode : null, signal, stdout: r.stdout.toString(), stdoutBytes: r.stdout, stderr: r.stderr.toString() };
  if (signal !== null) reportSignal(`modtrace ${args.join(" ")}`, signal, run.stderr);
  return run;
}

/** "exit 1" or "killed by SIGSEGV", for assertion and error messages. */
export function describeEnd(end: End): string {
  return end.signal === null ? `exit ${end.exitCode}` : `killed by ${end.signal}`;
}

/** Prints to the test log, whatever the test then asserts, what killed a
 * modtrace and what it said first (a crash's report is on its stderr). */
export function reportSignal(what: string, signal: string, stderr: string): void {
  console.error(`${what} killed by ${signal}; its stderr:\n${stderr}`);
}

/** A signal's name: Bun gives most by name, script(1) gives a number. */
export function signalName(code: string | number | null | undefined): string | null {
  if (code === null || code === undefined) return null;
  if (typeof code === "string") return code;
  return Object.entries(constants.signals).find(([, n]) => n === code)?.[0] ?? `signal ${code}`;
}
