// Runs the real dist/modtrace as a subprocess around a trigger run, and
// derives the expected values from the system itself (never from modtrace).
import { mkdtempSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelDev } from "../lib/devices";
import { describeEnd, MODTRACE, reportSignal, runModtrace, signalName } from "../lib/modtrace";

export { MODTRACE };
export const TRIGGER = realpathSync("tests/trigger");

export interface Truth {
  call: string;
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  gid: number;
  ret: number;
  [arg: string]: any;
}

export interface Finished {
  exitCode: number; // 128 + the signal's number when killed by one
  signal: string | null;
  stdout: string;
  stdoutBytes: Uint8Array; // for binary output (-o cbor, -o raw)
  stderr: string;
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), "modtrace-test-"));
}

export class Capture {
  private stderrText = "";
  private stdoutChunks: Uint8Array[] = [];
  private readers: Promise<void>[];

  private constructor(private proc: ReturnType<typeof Bun.spawn>, private argv: string[]) {
    this.readers = [this.pump(proc.stderr as ReadableStream, (t) => (this.stderrText += t)), this.collect(proc.stdout as ReadableStream)];
  }

  /** Starts modtrace and waits for its "capturing" line; env adds to this process's environment. */
  static async start(args: string[], env: Record<string, string> = {}): Promise<Capture> {
    return Capture.startCommand([MODTRACE, ...args], env);
  }

  /** Starts modtrace in a shell line (a pipe, a closed descriptor): $MODTRACE names the binary. */
  static async startShell(line: string): Promise<Capture> {
    return Capture.startCommand(["sh", "-c", line], { MODTRACE });
  }

  private static async startCommand(argv: string[], env: Record<string, string>): Promise<Capture> {
    const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, ...env } });
    const c = new Capture(proc, argv);
    const deadline = Date.now() + 30_000;
    while (!c.stderrText.includes("capturing")) {
      if (!c.running || Date.now() > deadline)
        throw new Error(`modtrace did not start capturing${c.running ? "" : ` (${c.end()})`}:\n${c.stderrText}`);
      await Bun.sleep(20);
    }
    return c;
  }

  private async pump(stream: ReadableStream, sink: (t: string) => void) {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink(decoder.decode(chunk as Uint8Array, { stream: true }));
  }

  private async collect(stream: ReadableStream) {
    for await (const chunk of stream) this.stdoutChunks.push(chunk as Uint8Array);
  }

  /** Waits until standard output holds `text`; fails if modtrace exits first. */
  async stdoutHas(text: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!Buffer.concat(this.stdoutChunks).toString("utf8").includes(text)) {
      if (!this.running) throw new Error(`modtrace ended (${this.end()}) before printing ${text}:\n${this.stderrText}`);
      if (Date.now() > deadline) throw new Error(`modtrace did not print ${text}:\n${this.stderrText}`);
      await Bun.sleep(20);
    }
  }

  /** Waits until standard error holds `text`; fails if modtrace exits first. */
  async stderrHas(text: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderrText.includes(text)) {
      if (!this.running) throw new Error(`modtrace ended (${this.end()}) before saying ${text}:\n${this.stderrText}`);
      if (Date.now() > deadline) throw new Error(`modtrace did not say ${text}:\n${this.stderrText}`);
      await Bun.sleep(20);
    }
  }

  /** modtrace's pid (the same after its restart with the runtime's options: an exec). */
  get pid(): number {
    return this.proc.pid;
  }

  /** Whether modtrace is still running (a process killed by a signal has no exit code). */
  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** How the process ended: "exit 1", "killed by SIGSEGV". */
  private end(): string {
    return describeEnd({ exitCode: this.proc.exitCode, signal: signalName(this.proc.signalCode) });
  }

  /** Waits for modtrace to exit by itself (--count, --duration). */
  async finished(): Promise<Finished> {
    return this.ended(null);
  }

  /** Ctrl-C, then everything it printed. */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<Finished> {
    this.proc.kill(signal);
    return this.ended(signal);
  }

  /** Everything it printed; a signal other than the one sent (a crash) is
   * printed to the test log with modtrace's stderr, whatever the test asserts. */
  private async ended(sent: string | null): Promise<Finished> {
    const exitCode = await this.proc.exited;
    await Promise.all(this.readers);
    const signal = signalName(this.proc.signalCode);
    if (signal !== null && signal !== sent) reportSignal(this.argv.join(" "), signal, this.stderrText);
    const stdoutBytes = Buffer.concat(this.stdoutChunks);
    return { exitCode, signal, stdout: stdoutBytes.toString("utf8"), stdoutBytes, stderr: this.stderrText };
  }
}

/** Runs modtrace with standard output a pipe whose reader is gone, as after
 * `| head -1` has its line, without a race: a FIFO opened for writing, then
 * its only reader closed. */
export function intoGoneReader(args: string[]): { code: number | null; err: string } {
  const script = 'f=$(mktemp -u) && mkfifo "$f" && exec 3<>"$f" 4>"$f" 3<&- && rm "$f" && exec "$@" >&4 4>&-';
  const r = runModtrace(args, { prefix: ["bash", "-c", script, "bash"], timeout: 60_000 });
  return { code: r.exitCode, err: r.stderr };
}

/** Runs modtrace on a terminal (util-linux script's pty): its exit status
 * and what the terminal showed, standard output and error together. */
export function onTerminal(args: string[], env: Record<string, string> = {}, columns?: number): { code: number; screen: string } {
  const line = (columns ? `stty cols ${columns}; ` : "") + [MODTRACE, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const r = Bun.spawnSync(["script", "-qec", line, "/dev/null"], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env }, timeout: 60_000 });
  // modtrace is script's child, not this process's: script exits 128 + the
  // number of a signal that killed it (modtrace's own statuses are small).
  if (r.exitCode > 128) reportSignal(`${line} on a terminal`, signalName(r.exitCode - 128)!, r.stdout.toString());
  return { code: r.exitCode, screen: r.stdout.toString() };
}

/** What this kernel offers, as `modtrace doctor --json` finds it (for the
 * attach mode MODTRACE_ATTACH pins, when it does): tests derive what they
 * expect to be attached from it, so they hold on any kernel. */
export function doctorReport(): any {
  const run = runModtrace(["doctor", "--json"], { timeout: 60_000 });
  if (!run.stdout.length) throw new Error(`modtrace doctor --json printed nothing (${describeEnd(run)}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** The events a capture of every event attaches here, in the header's order. */
export function plannedEvents(): string[] {
  return doctorReport().plan.planned.map((p: any) => p.event);
}

/** The trigger run by a shell whose pid is known before it execs it, held
 * until release(): a capture can be started that filters on that pid. */
export function heldTrigger(...args: string[]): { pid: number; release(): Promise<void> } {
  const shell = Bun.spawn(["sh", "-c", `read go; exec ${TRIGGER} ${args.join(" ")}`], { stdin: "pipe", stdout: "pipe" });
  return {
    pid: shell.pid,
    async release() {
      shell.stdin!.write("go\n");
      shell.stdin!.end();
      await shell.exited;
    },
  };
}

/** A scratch file that is no module (the kernel refuses it unread), for load attempts. */
export function notAModule(): string {
  const file = join(scratchDir(), "m.ko");
  writeFileSync(file, "x");
  return file;
}

export function trigger(...args: string[]): Truth[] {
  const run = Bun.spawnSync([TRIGGER, ...args], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`trigger ${args.join(" ")} failed: ${run.stderr}`);
  return run.stdout.toString().trim().split("\n").map((l) => JSON.parse(l));
}

/** The events of JSON output (findings, which share the stream, left out). */
export function jsonLines(text: string): any[] {
  return jsonItems(text).filter((o) => o.finding !== true);
}

/** The findings of JSON output. */
export function findingLines(text: string): any[] {
  return jsonItems(text).filter((o) => o.finding === true);
}

function jsonItems(text: string): any[] {
  return text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

export function arg(event: any, name: string): any {
  const a = event.args.find((x: any) => x.name === name);
  if (!a) throw new Error(`${event.eventName} has no argument ${name}: ${JSON.stringify(event.args)}`);
  return a;
}

/** Namespace inode of this test process (the trigger, its child, shares it). */
export function namespaceInode(kind: "mnt" | "pid"): number {
  return Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/self/ns/${kind}`))![1]);
}

/** cgroup v2 id of this process: the inode of its cgroup directory. */
export function cgroupId(): number {
  const path = /^0::(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))![1];
  const mount = readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")).find((f) => f[2] === "cgroup2")![1];
  return statSync(join(mount, path)).ino;
}

/** The kernel's dev_t encoding of the device a file lives on. */
export function fileDev(path: string): { value: number; decoded: string } {
  return kernelDev(statSync(path, { bigint: true }).dev);
}

export function hexText(hex: string): string {
  return Buffer.from(hex, "hex").toString("utf8");
}
