// The cost of watching a host, measured side by side in one run against
// bpftrace (Debian's package) on the same raw_syscalls tracepoint:
// capture throughput and loss, overhead on an unrelated syscall, startup
// time, and modtrace's peak memory. Needs root.
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const MODTRACE = join(ROOT, "dist/modtrace");
const TRIGGER = join(ROOT, "tests/trigger");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const GETPPID = Number(process.env.BENCH_GETPPID ?? 2_000_000);
const BURST = 100_000;
const GETPPID_ROUNDS = 5;
// A printf per delete_module, like modtrace's one record per call.
const BPFTRACE_PROBE = `tracepoint:raw_syscalls:sys_enter /args->id == 176/ { printf("%d %d %s\\n", pid, tid, comm); }`;
// Like for like with modtrace's raw mode, which needs the exit too for the return value.
// (modtrace's raw mode is a BTF raw tracepoint, tp_btf; Debian's bpftrace 0.17
// has no rawtracepoint probes, "FATAL: Invalid probe type made it to attachpoint
// parser", so its peer is the classic tracepoint on the same event.)
const BPFTRACE_PROBE_WITH_EXIT = `${BPFTRACE_PROBE} tracepoint:raw_syscalls:sys_exit /args->id == 176/ { printf("%d ret %d\\n", pid, args->ret); }`;

interface Running {
  proc: ReturnType<typeof Bun.spawn>;
  startupMs: number;
  stdout: () => Promise<string>;
  stderr: () => string;
  seen: () => string; // stdout and stderr so far
}

/** Starts a tracer and waits for the line that says it is attached. Event-driven: a
 * Bun.sleep() polling loop was seen to stall with bpftrace attached. */
async function start(cmd: string[], ready: RegExp, stdoutFile?: string): Promise<Running> {
  const t0 = performance.now();
  const proc = Bun.spawn(cmd, { stdout: stdoutFile ? Bun.file(stdoutFile) : "pipe", stderr: "pipe" });
  let err = "";
  let out = "";
  let attached!: () => void;
  const isReady = new Promise<void>((resolve) => (attached = resolve));
  const check = () => {
    const fileHead = stdoutFile && existsSync(stdoutFile) ? readFileSync(stdoutFile, "utf8").slice(0, 200) : "";
    if (ready.test(err + out + fileHead)) attached();
  };
  const drain = async (stream: ReadableStream, add: (s: string) => void) => {
    const text = new TextDecoder();
    for await (const c of stream) {
      add(text.decode(c as Uint8Array, { stream: true }));
      check();
    }
  };
  void drain(proc.stderr as ReadableStream, (s) => (err += s));
  const readOut = stdoutFile ? Promise.resolve() : drain(proc.stdout as ReadableStream, (s) => (out += s));
  // bpftrace prints "Attaching" to stdout, which is a file in the throughput run.
  const poll = stdoutFile ? setInterval(check, 1) : undefined;
  const outcome = await Promise.race([
    isReady.then(() => "ready"),
    proc.exited.then((code) => `exited with status ${code}`),
    Bun.sleep(60_000).then(() => "did not attach within 60 s"),
  ]);
  clearInterval(poll);
  if (outcome !== "ready") {
    proc.kill("SIGKILL");
    throw new Error(`${cmd[0]} ${outcome}: ${err}`);
  }
  const startupMs = performance.now() - t0;
  return { proc, startupMs, stdout: async () => (await readOut, out), stderr: () => err, seen: () => out + err };
}

/** SIGINT until it exits: bpftrace misses a SIGINT that lands while it is still
 * attaching (it prints "Attaching" before it attaches). */
async function stop(r: Running) {
  for (let i = 0; i < 50 && r.proc.exitCode === null; i++) {
    r.proc.kill("SIGINT");
    await Promise.race([r.proc.exited, Bun.sleep(200)]);
  }
  if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
  await r.proc.exited;
}

function trigger(...args: string[]): any {
  return JSON.parse(Bun.spawnSync([TRIGGER, ...args]).stdout.toString().trim().split("\n").at(-1)!);
}

/** Milliseconds from `since` until bpftrace prints an event: one delete_module at a
 * time until one shows up in its output. */
async function firstEvent(output: () => string | Promise<string>, since: number): Promise<number> {
  const pids: number[] = []; // bpftrace may print an event after the next call
  for (let i = 0; i < 3000; i++) {
    pids.push(trigger("burst", "1").pid);
    const printed = await output();
    if (pids.some((pid) => new RegExp(`^${pid} `, "m").test(printed))) return performance.now() - since;
    await Bun.sleep(5);
  }
  throw new Error(`bpftrace printed no event within 15 s; its output: ${(await output()).slice(-300)}`);
}

/** bpftrace once it really is attached: it prints "Attaching" before it is. */
async function attachedBpftrace(cmd: string[]): Promise<Running> {
  const b = await start(cmd, /Attaching/);
  await firstEvent(() => b.seen(), 0);
  return b;
}

const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (r: { calls: number; seconds: number }) => r.calls / r.seconds;
const kRate = (r: { calls: number; seconds: number }) => `${(rate(r) / 1e3).toFixed(0)}k calls/s`;

export async function benchCapture(): Promise<string[]> {
  if (!existsSync("/sys/kernel/tracing/events/raw_syscalls"))
    Bun.spawnSync(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"]); // bpftrace finds tracepoints there
  const dir = mkdtempSync(join(tmpdir(), "modtrace-bench-"));
  const modtraceCmd = (out: string) => [MODTRACE, "--comm", "mt-trigger", "-e", "delete_module", "-o", `cbor:${out}`];
  // -B line: bpftrace block-buffers a piped stdout, "Attaching" included.
  const bpftrace = (probe: string) => ["bpftrace", "-B", "line", "-e", probe];
  const bpftraceCmd = bpftrace(BPFTRACE_PROBE);
  // The generator: delete_module as fast as one thread can, for a fixed time (as root:
  // the calls fail with ENOSYS here, EPERM or ENOENT on a kernel with modules).
  const generate = () => trigger("flood", "0", String(SECONDS));

  // Startup: exec to "capturing" (printed once attached) against exec to bpftrace's
  // "Attaching" (printed before it attaches) and to its first event.
  const startups = { modtrace: [] as number[], bpftrace: [] as number[], bpftraceEvent: [] as number[] };
  for (let i = 0; i < 3; i++) {
    const m = await start(modtraceCmd(join(dir, `s${i}.cbor`)), /capturing/);
    startups.modtrace.push(m.startupMs);
    await stop(m);
    const t0 = performance.now();
    const b = await start(bpftraceCmd, /Attaching/);
    startups.bpftrace.push(b.startupMs);
    startups.bpftraceEvent.push(await firstEvent(() => b.seen(), t0));
    await stop(b);
  }

  // Throughput and loss.
  const bare = generate();
  const cbor = join(dir, "flood.cbor");
  const m = await start(modtraceCmd(cbor), /capturing/);
  const mRun = generate();
  await Bun.sleep(300);
  const rss = peakRss(m.proc.pid);
  await stop(m);
  const summary = /(\d+) events captured .*?; (\d+) lost/.exec(m.stderr())!;
  const [written, lost] = [Number(summary[1]), Number(summary[2])];

  const bOut = join(dir, "bpftrace.txt");
  const b = await start(bpftraceCmd, /Attaching/, bOut);
  await firstEvent(() => readFileSync(bOut, "utf8"), 0);
  const bRun = generate();
  await Bun.sleep(300);
  const bRss = peakRss(b.proc.pid);
  await stop(b);
  const bText = readFileSync(bOut, "utf8");
  const bWritten = bText.split("\n").filter((l) => l.startsWith(`${bRun.pid} `)).length;
  const bLost = [...(bText + b.stderr()).matchAll(/Lost (\d+) events/g)].reduce((n, x) => n + Number(x[1]), 0);

  // Overhead on an unrelated syscall while attached: each round measures the bare
  // rate next to each tracer's, and the ratios are medians over the rounds.
  const getppid = (): number => trigger("getppid", String(GETPPID)).ns_per_call;
  const peers: [string, () => Promise<Running>][] = [
    ["modtrace", () => start(modtraceCmd(join(dir, "g.cbor")), /capturing/)],
    ["bpftrace (sys_enter)", () => attachedBpftrace(bpftraceCmd)],
    ["bpftrace (sys_enter + sys_exit)", () => attachedBpftrace(bpftrace(BPFTRACE_PROBE_WITH_EXIT))],
  ];
  const overhead = new Map<string, { ns: number[]; ratio: number[] }>(peers.map(([name]) => [name, { ns: [], ratio: [] }]));
  const bareNs: number[] = [];
  let modtraceStderr = "";
  // The bare rate is taken just before and just after each traced run, and
  // the ratio is against their mean: the machine's speed drifts.
  for (let round = 0; round < GETPPID_ROUNDS; round++)
    for (const [name, attach] of peers) {
      const before = getppid();
      const tracer = await attach();
      const traced = getppid();
      await stop(tracer);
      const after = getppid();
      if (name === "modtrace") modtraceStderr = tracer.stderr();
      bareNs.push(before, after);
      overhead.get(name)!.ns.push(traced);
      overhead.get(name)!.ratio.push(traced / ((before + after) / 2));
    }
  const hook = /capturing delete_module \(([^)]+)\)/.exec(modtraceStderr)?.[1] ?? "?";

  // A burst with default settings (every event, the default ring) while another
  // process keeps the second CPU busy: what a host owner's first try looks like.
  const bursts: string[] = [];
  for (let round = 0; round < 3; round++) {
    const busy = Bun.spawn(["sh", "-c", "while :; do :; done"]);
    const log = join(dir, `burst${round}.cbor`);
    const d = await start([MODTRACE, "-o", `cbor:${log}`], /capturing/);
    const burst = trigger("burst", String(BURST));
    await Bun.sleep(500);
    await stop(d);
    busy.kill("SIGKILL");
    const m = /(\d+) events captured .*?; (\d+) lost/.exec(d.stderr())!;
    bursts.push(`written ${m[1]}, lost ${m[2]} (${(burst.calls / burst.seconds / 1e3).toFixed(0)}k calls/s)`);
  }

  const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms`;
  return [
    `Capture throughput and loss: delete_module from one thread, as fast as it can, for ${SECONDS} s (modtrace hook: ${hook}, -o cbor:FILE)`,
    `  no tracer        ${kRate(bare)}`,
    `  modtrace         ${kRate(mRun)}  generated ${mRun.calls}, written ${written}, lost ${lost}; written + lost = generated: ${written + lost === mRun.calls ? "yes" : "NO"}; log ${(statSync(cbor).size / 2 ** 20).toFixed(0)} MiB`,
    `  bpftrace printf  ${kRate(bRun)}  generated ${bRun.calls}, printed ${bWritten}, lost ${bLost}; printed + lost = generated: ${bWritten + bLost === bRun.calls ? "yes" : "NO"}`,
    `  generator rate under modtrace / under bpftrace: x${(rate(mRun) / rate(bRun)).toFixed(2)}; modtrace events written per second / bpftrace events printed per second: x${(written / mRun.seconds / (bWritten / bRun.seconds)).toFixed(2)}`,
    `Overhead on getppid (${GETPPID} calls; ${GETPPID_ROUNDS} rounds, each traced run against the bare runs just before and after it; median ratios and each round's, lower is better)`,
    `  no tracer ${median(bareNs)} ns/call`,
    ...[...overhead].map(([name, o]) => `  ${name.padEnd(32)} x${median(o.ratio).toFixed(2)} (${median(o.ns)} ns/call); rounds ${o.ratio.map((x) => `x${x.toFixed(2)}`).join(" ")}`),
    `Startup (median of 3; lower is better)`,
    `  modtrace exec to "capturing" ${ms(startups.modtrace)}; bpftrace exec to "Attaching" ${ms(startups.bpftrace)} (modtrace/bpftrace x${(median(startups.modtrace) / median(startups.bpftrace)).toFixed(2)}), to its first event ${ms(startups.bpftraceEvent)} (x${(median(startups.modtrace) / median(startups.bpftraceEvent)).toFixed(2)})`,
    `Memory: peak RSS during each one's throughput run: modtrace ${(rss / 1024).toFixed(1)} MiB, bpftrace ${(bRss / 1024).toFixed(1)} MiB (modtrace/bpftrace x${(rss / bRss).toFixed(2)})`,
    `Burst of ${BURST} delete_module calls with default settings while a busy loop holds the other CPU (3 rounds): ${bursts.join("; ")}`,
  ];
}

if (import.meta.main) for (const l of await benchCapture()) console.log(l);
