// How a capture ends, what it prints as text, and the kernel-side filters.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { Capture, doctorReport, heldTrigger, jsonLines, notAModule, scratchDir, trigger } from "./harness";
import { cborItems } from "../lib/cbor";
import { runModtrace } from "../lib/modtrace";
import { NO_HOOK } from "../../decoder/assembly/image-texts";

const ERRNO_NAME = Object.fromEntries(Object.entries(constants.errno).map(([name, n]) => [n, name]));
// modtrace as nobody, without privileges (setpriv execs it).
const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

describe("stopping, text output and filters", () => {
  test("--count stops by itself after that many events", async () => {
    const capture = await Capture.start(["--comm", "mt-trigger", "--count", "2", "-o", "json"]);
    trigger("edge");
    const done = await capture.finished();
    expect(done.exitCode).toBe(0);
    expect(jsonLines(done.stdout).length).toBe(2);
    expect(done.stderr).toContain("2 events captured");
  });

  test("--duration stops by itself", async () => {
    const started = Date.now();
    const capture = await Capture.start(["--duration", "1", "-o", "json"]);
    const done = await capture.finished();
    expect(done.exitCode).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  // setTimeout fires at once above 2^31 ms (24.8 days): a 30-day capture
  // must outlive a 1-second one started after it, and stop only when told.
  test("--duration above 24.8 days does not stop early", async () => {
    const long = await Capture.start(["--comm", "mt-trigger", "--duration", "2592000", "-o", "json"]);
    const short = await Capture.start(["--comm", "mt-trigger", "--duration", "1", "-o", "json"]);
    expect((await short.finished()).exitCode).toBe(0);
    expect(long.running).toBe(true);
    trigger("thread");
    await long.stdoutHas('"delete_module"');
    const done = await long.stop();
    expect(done.exitCode).toBe(0);
    expect(done.stderr).not.toContain("TimeoutOverflowWarning");
  });

  test("SIGHUP (the terminal or ssh session closed) ends like SIGTERM: summary and trailer", async () => {
    const file = join(scratchDir(), "log.cbor");
    const capture = await Capture.start(["--comm", "mt-trigger", "-o", `cbor:${file}`]);
    trigger("thread");
    const done = await capture.stop("SIGHUP");
    expect(done.exitCode).toBe(0);
    expect(done.stderr).toContain("1 events captured");
    expect(cborItems(readFileSync(file)).at(-1)).toMatchObject({ trailer: true, events: 1 });
  });

  test("SIGTERM stops cleanly and flushes what was captured", async () => {
    const capture = await Capture.start(["--comm", "mt-trigger", "-o", "json"]);
    trigger("thread");
    const done = await capture.stop("SIGTERM");
    expect(done.exitCode).toBe(0);
    expect(jsonLines(done.stdout).length).toBe(1);
  });

  test("text: aligned columns, errno and flags by name, unprintable bytes escaped", async () => {
    const capture = await Capture.start(["--comm", "mt-trigger", "-o", "text"]);
    const [, , delTruth] = trigger("basic", notAModule());
    trigger("edge");
    const done = await capture.stop();
    // The events' lines (findings have their own test).
    const lines = done.stdout.trimEnd().split("\n").filter((l) => !/^\S+\s+FINDING /.test(l));
    // What the kernel answered, by its name: ENOSYS without modules, ENOENT with.
    const errno = ERRNO_NAME[-delTruth.ret];
    expect(lines[0]).toMatch(/^TIME\(UTC\)\s+UID\s+COMM\s+PID\s+TID\s+RET\s+EVENT\s+ARGS/);
    expect(lines.length).toBe(1 + 3 + 6);
    const del = lines.find((l) => l.includes('"mt_dummy"'))!;
    expect(del).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\s+0\\s+mt-trigger\\s+\\d+\\s+\\d+\\s+-${errno}\\s+delete_module\\s+name: "mt_dummy", flags: O_TRUNC\\|O_NONBLOCK`));
    expect(lines.some((l) => l.includes('"mod\\xff\\xfe'))).toBe(true);
    // Columns line up: EVENT starts at the same offset on every line.
    const eventColumn = lines[0].indexOf("EVENT");
    for (const l of lines.slice(1)) expect(l.slice(eventColumn)).toMatch(/^(init|finit|delete)_module /);
  });

  test("--pid keeps one process and counts the rest as filtered", async () => {
    const waiting = heldTrigger("thread");
    const capture = await Capture.start(["--pid", String(waiting.pid), "-o", "json"]);
    trigger("thread");
    await waiting.release();
    const done = await capture.stop();
    const events = jsonLines(done.stdout);
    expect(events.length).toBe(1);
    expect(events[0].hostProcessId).toBe(waiting.pid);
    expect(done.stderr).toMatch(/ [1-9]\d* filtered out/);
  });

  // Which filters are on is fixed before load (bpf/config.h), and the code of
  // those that are off is left out: an unfiltered capture must still see
  // every caller and drop nothing, and the filters still count what they drop.
  test("without a filter, every caller is captured and nothing counts as filtered", async () => {
    const capture = await Capture.start(["-o", "json"]);
    const truths = trigger("basic", notAModule());
    const done = await capture.stop();
    // Other processes on the machine may load modules too: the trigger's calls, exactly.
    const mine = jsonLines(done.stdout).filter((e) => e.hostProcessId === truths[0].pid);
    expect(mine.map((e) => e.returnValue).sort()).toEqual(truths.map((t: any) => t.ret).sort());
    expect(done.stderr).toContain("; 0 filtered out");
  });

  test("--pid, --uid and --comm together keep only what passes all three, and count the rest", async () => {
    const file = notAModule();
    const waiting = heldTrigger("basic", file);
    const capture = await Capture.start(["--pid", String(waiting.pid), "--uid", "0", "--comm", "mt-trigger", "-o", "json"]);
    // The same calls from another pid: each is dropped by --pid, and counted once.
    trigger("basic", file);
    await waiting.release();
    const done = await capture.stop();
    const events = jsonLines(done.stdout);
    expect(events.length).toBe(3);
    for (const e of events) expect(e.hostProcessId).toBe(waiting.pid);
    expect(Number(/ (\d+) filtered out/.exec(done.stderr)?.[1])).toBeGreaterThanOrEqual(3);
  });

  test("--uid takes a user name", async () => {
    // nobody where /etc/passwd has it (the VM guest's has root alone).
    const nobody = readFileSync("/etc/passwd", "utf8").split("\n").map((l) => l.split(":")).find((f) => f[2] === "65534")?.[0];
    const capture = await Capture.start(["--uid", nobody ?? "root", "--comm", "mt-trigger", "-o", "json"]);
    const [asRoot] = trigger("thread");
    const [asNobody] = trigger("uid", "65534");
    const done = await capture.stop();
    const expected = nobody ? [65534, asNobody.pid] : [0, asRoot.pid];
    expect(jsonLines(done.stdout).map((e) => [e.userId, e.hostProcessId])).toEqual([expected]);
  });

  test("-e picks events", async () => {
    const capture = await Capture.start(["--comm", "mt-trigger", "-e", "delete_module", "-o", "json"]);
    const dir = scratchDir();
    const file = join(dir, "m.ko");
    writeFileSync(file, "x");
    trigger("basic", file);
    const done = await capture.stop();
    expect(jsonLines(done.stdout).map((e) => e.eventName)).toEqual(["delete_module"]);
  });

  // What this kernel offers, as doctor finds it: the expectations below follow
  // it, so that they hold on a kernel with modules, kprobes or fentry too.
  const doctor = doctorReport;

  test("every event attaches as doctor planned; those this kernel cannot hook are reported, the rest keep working", async () => {
    const plan = doctor().plan;
    const capture = await Capture.start(["--comm", "mt-trigger", "-o", "json"]);
    trigger("thread");
    const done = await capture.stop();
    expect(jsonLines(done.stdout).length).toBe(1);
    for (const u of plan.unavailable) expect(done.stderr).toContain(`${u.event} unavailable: ${u.why}`);
    const syscallHook = plan.planned.find((p: any) => p.event === "delete_module").hook;
    const sameHook = plan.planned.filter((p: any) => p.hook === syscallHook).map((p: any) => p.event);
    expect(sameHook.slice(0, 3)).toEqual(["init_module", "finit_module", "delete_module"]);
    expect(done.stderr).toContain(`capturing ${sameHook.join(", ")} (${syscallHook})`);
  });

  test("module images: hashed where doctor finds a hook for them, and where it does not, every load attempt says why", async () => {
    const images = doctor().plan.images;
    const dir = scratchDir();
    const file = join(dir, "image.ko");
    // Above the size of an ELF header, below which the kernel refuses an image unread.
    writeFileSync(file, "fixture module image\n".repeat(200));
    const saved = join(dir, "saved");
    mkdirSync(saved, { mode: 0o700 });
    const capture = await Capture.start(["--comm", "mt-trigger", "-o", "json", "--save-modules", saved]);
    const truths = trigger("image", file);
    const done = await capture.stop();
    const [load] = jsonLines(done.stdout);
    expect(load).toMatchObject({ eventName: "init_module", returnValue: truths[0].ret });
    if (images.why) {
      // --save-modules was asked for: nothing will be saved, and it says so.
      expect(done.stderr).toContain(`module images will not be hashed nor saved to ${saved}: ${images.why}`);
      expect([load.sha256, load.size, load.sha256Error]).toEqual([undefined, undefined, NO_HOOK]);
    } else {
      // The kernel copies the image before it looks at it: even a file that is no module is hashed.
      expect(done.stderr).toContain(`module images for sha256 (${images.hook})`);
      expect(load.sha256).toBe(createHash("sha256").update(readFileSync(file)).digest("hex"));
      expect(load.size).toBe(readFileSync(file).length);
    }
  });

  test("--attach asks for one mode; where the kernel lacks it, capture says why and fails", () => {
    const fentry = doctor().checks.find((c: any) => c.what === "fentry");
    // Bounded either way: where fentry works, this captures for a second.
    const run = runModtrace(["--attach", "fentry", "-o", "json", "--duration", "1"], { timeout: 60_000 });
    if (fentry.ok !== true) {
      // doctor's fentry line is the verdict on the first syscall function, init_module's.
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain(`init_module (fentry: ${fentry.ok === null ? "cannot tell: " : ""}${fentry.detail.replace(/^cannot tell: /, "")})`);
    } else {
      expect(run.exitCode).toBe(0);
      expect(run.stderr).toMatch(/delete_module(, \w+)* \(fentry\/fexit\)/);
    }
    const bad = runModtrace(["--attach", "ebpf"], { timeout: 30_000 });
    expect(bad.exitCode).toBe(2);
  });

  test("doctor --json says the same as doctor, and ok is true, false or null", () => {
    const report = doctor();
    const text = runModtrace(["doctor"], { timeout: 30_000 }).stdout;
    for (const c of report.checks) {
      expect([true, false, null]).toContain(c.ok);
      expect(text).toContain(`${c.ok === true ? "yes" : c.ok === false ? "no " : "?  "}  ${c.what.padEnd(26)} ${c.detail}`);
    }
    for (const p of report.plan.planned) expect(text).toContain(`  ${p.event.padEnd(15)} ${p.hook}`);
  });

  test("without privileges, capture names the missing capability", () => {
    const run = runModtrace(["-o", "json"], { prefix: NOBODY });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("CAP_BPF");
  });

  test("doctor without privileges says what it cannot tell instead of guessing", () => {
    const run = runModtrace(["doctor"], { prefix: NOBODY });
    const out = run.stdout;
    expect(run.exitCode).toBe(1);
    expect(out).toMatch(/^no\s+privileges\s+missing CAP_BPF/m);
    expect(out).toMatch(/^\?\s+ring buffer\s+cannot tell without privileges/m);
  });

  test("doctor reports this kernel's raw tracepoints and ring buffer", () => {
    const run = runModtrace(["doctor"]);
    const out = run.stdout;
    expect(run.exitCode).toBe(0);
    expect(out).toMatch(/^yes\s+raw tracepoints/m);
    expect(out).toMatch(/^yes\s+ring buffer/m);
    expect(out).toMatch(/^yes\s+BTF/m);
  });
});
