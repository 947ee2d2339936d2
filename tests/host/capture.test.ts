// The compiled binary, attached on this machine's kernel, against the trigger.
import { describe, expect, test } from "bun:test";
import { cborItems, strictItemCount, withoutSeals } from "../lib/cbor";
import { constants } from "node:fs";
import { readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { arg, Capture, hexText, jsonLines, fileDev, MODTRACE, notAModule, plannedEvents, scratchDir, trigger, TRIGGER } from "./harness";
import { expectCall } from "./expect-event";

const ONLY_TRIGGER = ["--comm", "mt-trigger"];

function cborFile(path: string): any[] {
  const bytes = readFileSync(path);
  expect(strictItemCount(bytes)).toBe(cborItems(bytes).length);
  return withoutSeals(cborItems(bytes));
}

async function captureAround(args: string[], act: () => any) {
  const dir = scratchDir();
  const json = join(dir, "events.json");
  const cbor = join(dir, "events.cbor");
  const capture = await Capture.start([...args, "-o", `json:${json}`, "-o", `cbor:${cbor}`]);
  const from = Date.now();
  const result = act();
  const to = Date.now();
  const finished = await capture.stop();
  expect(finished.exitCode).toBe(0);
  // Events and the log's frame; the findings between them are another test's.
  const items = cborFile(cbor).filter((i: any) => i.finding !== true);
  return { result, window: { from, to }, json: jsonLines(readFileSync(json, "utf8")), items, finished, dir };
}

describe("capture on this host", () => {
  // Read at the syscall's exit (one program per call) or at its entry too:
  // the same events, field for field.
  for (const readAt of ["exit", "entry"])
  test(`the three syscalls, every field, in JSON and in CBOR (--read-at ${readAt})`, async () => {
    const dir = scratchDir();
    const file = join(dir, "not-a-module.ko");
    writeFileSync(file, "not a module");
    const run = await captureAround([...ONLY_TRIGGER, "--read-at", readAt], () => trigger("basic", file));
    const truths = run.result;
    expect(run.json.length).toBe(3);

    const [header, ...rest] = run.items;
    const trailer = rest.pop();
    expect(header.format).toBe("modtrace-log");
    // The command line as it was run, not the compiled binary's internal path.
    expect(header.commandLine).toEqual([MODTRACE, ...ONLY_TRIGGER, "--read-at", readAt, "-o", `json:${join(run.dir, "events.json")}`, "-o", `cbor:${join(run.dir, "events.cbor")}`]);
    // Every call of a capture has its own id, shared with nothing else here.
    expect(new Set(run.json.map((e: any) => e.callId)).size).toBe(3);
    // Every event this kernel can hook; a file that is no module makes no kernel-side event.
    const planned = plannedEvents();
    expect(header.events).toEqual(planned);
    expect(trailer.trailer).toBe(true);
    expect(trailer.events).toBe(3);
    expect(trailer.lost).toBe(0);
    expect(trailer.counts).toEqual({ ...Object.fromEntries(planned.map((e) => [e, 0])), init_module: 1, finit_module: 1, delete_module: 1 });
    expect(rest.length).toBe(3);

    for (const events of [run.json, rest]) {
      events.forEach((e: any, i: number) => expectCall(e, truths[i], run.window));
      const [init, finit, del] = events;
      expect(init.eventId).toBe(175);
      expect(arg(init, "module_image").value).toBe(truths[0].image);
      expect(arg(init, "len").value).toBe(64);
      expect(arg(init, "param_values").value).toBe(hexText(truths[0].params_hex));

      expect(finit.eventId).toBe(313);
      expect(arg(finit, "fd").value).toBe(truths[1].fd);
      expect(arg(finit, "param_values").value).toBe("x=1");
      expect(arg(finit, "flags")).toMatchObject({ value: 3, decoded: "MODULE_INIT_IGNORE_MODVERSIONS|MODULE_INIT_IGNORE_VERMAGIC" });
      expect(arg(finit, "pathname").value).toBe(realpathSync(file));
      const dev = fileDev(file);
      expect(arg(finit, "dev")).toMatchObject({ value: dev.value, decoded: dev.decoded });
      expect(arg(finit, "inode").value).toBe(statSync(file).ino);

      expect(del.eventId).toBe(176);
      expect(arg(del, "name").value).toBe("mt_dummy");
      expect(arg(del, "flags")).toMatchObject({ value: constants.O_NONBLOCK | constants.O_TRUNC, decoded: "O_TRUNC|O_NONBLOCK" });
    }
    // The CBOR maps are the JSON objects, value for value; a hash is a byte
    // string in CBOR and hex in JSON (where the kernel has an image hook).
    const hexHash = (e: any) => (e.sha256 instanceof Uint8Array ? { ...e, sha256: Buffer.from(e.sha256).toString("hex") } : e);
    expect(rest.map(hexHash)).toEqual(run.json);
  });

  test("NULL and unmapped pointers, a 200-byte name, bytes that are not UTF-8", async () => {
    const run = await captureAround(ONLY_TRIGGER, () => trigger("edge"));
    const truths = run.result;
    expect(run.json.length).toBe(truths.length);
    const cborEvents = run.items.slice(1, -1);
    run.json.forEach((e, i) => expectCall(e, truths[i], run.window));

    const [nullName, unmapped, long, notUtf8, badFd, nullParams] = run.json;
    for (const e of [nullName, unmapped]) expect(arg(e, "name")).toMatchObject({ value: null, error: "unreadable" });
    expect(arg(long, "name").value).toBe("n".repeat(200));
    expect(arg(long, "name").truncated).toBeUndefined();
    const raw = truths[3].name_hex;
    expect(arg(notUtf8, "name").raw).toBe(raw);
    const shown: string = arg(notUtf8, "name").value;
    expect(shown.startsWith("mod") && shown.endsWith("z") && shown.includes("\uFFFD")).toBe(true);
    expect(Buffer.from(arg(cborEvents[3], "name").raw).toString("hex")).toBe(raw);
    expect(arg(badFd, "fd").value).toBe(-1);
    expect(arg(badFd, "pathname")).toMatchObject({ value: null, error: "unreadable" });
    expect(arg(badFd, "flags")).toMatchObject({ value: 4, decoded: "MODULE_INIT_COMPRESSED_FILE" });
    expect(arg(nullParams, "param_values")).toMatchObject({ value: null, error: "unreadable" });
  });

  test("kexec_load and kexec_file_load: the other door for kernel code, each call as the trigger made it", async () => {
    // Nothing is staged: a file that is no kernel, and unstaging (which the
    // kernel answers 0 for where it has kexec, ENOSYS where it has not).
    const file = notAModule();
    const run = await captureAround(ONLY_TRIGGER, () => [
      ...trigger("kexec", "file", file, "console=ttyS0 quiet"), ...trigger("kexec", "file-unload"), ...trigger("kexec", "unload"),
    ]);
    const truths = run.result;
    // By caller: a failed call goes to the bulk ring, a successful one to the
    // priority ring, which is read first; one event per call.
    const events = truths.map((t: any) => run.json.filter((e: any) => e.hostProcessId === t.pid));
    expect(events.map((es: any[]) => es.map((e) => [e.eventName, e.returnValue]))).toEqual(truths.map((t: any) => [[t.call, t.ret]]));
    events.forEach((es: any[], i: number) => expectCall(es[0], truths[i], run.window));
    const [staged, unstagedFile, unstaged] = events.map((es: any[]) => es[0]);
    expect(staged.eventId).toBe(320);
    expect(arg(staged, "kernel_fd").value).toBe(truths[0].kernel_fd);
    expect(arg(staged, "initrd_fd").value).toBe(-1);
    expect(arg(staged, "cmdline").value).toBe("console=ttyS0 quiet");
    expect(arg(staged, "flags")).toMatchObject({ value: 4, decoded: "KEXEC_FILE_NO_INITRAMFS" });
    expect(arg(staged, "pathname").value).toBe(realpathSync(file));
    expect(arg(staged, "inode").value).toBe(statSync(file).ino);
    expect(arg(unstagedFile, "flags")).toMatchObject({ value: 1, decoded: "KEXEC_FILE_UNLOAD" });
    expect(arg(unstagedFile, "pathname")).toMatchObject({ value: null, error: "unreadable" });
    expect(unstaged.eventId).toBe(246);
    expect([arg(unstaged, "entry").value, arg(unstaged, "nr_segments").value, arg(unstaged, "flags").value]).toEqual([0, 0, 0]);
    // Failures and unstaging stage nothing: no finding.
    expect(run.finished.stderr).toContain("findings: none");
  });

  test("a second thread is reported with its own thread id", async () => {
    const run = await captureAround(ONLY_TRIGGER, () => trigger("thread"));
    const [truth] = run.result;
    expect(truth.tid).not.toBe(truth.pid);
    expect(run.json.length).toBe(1);
    expectCall(run.json[0], truth, run.window);
    expect(arg(run.json[0], "name").value).toBe("mt_from_thread");
  });

  test("a non-root caller, and --uid keeping only it", async () => {
    const file = notAModule();
    const run = await captureAround(["--uid", "65534", ...ONLY_TRIGGER], () => [...trigger("basic", file), ...trigger("uid", "65534")]);
    const unprivileged = run.result.filter((t: any) => t.uid === 65534);
    expect(unprivileged.length).toBe(1);
    expect(run.json.length).toBe(1);
    expectCall(run.json[0], unprivileged[0], run.window);
    expect(run.json[0].returnValue).toBe(unprivileged[0].ret);
    expect(run.items.at(-1).filtered).toBe(3);
  });

  test("a burst of 20,000 calls with the default ring: exactly 20,000 events, none lost", async () => {
    // Some 4.5 MB of records: the default 16 MiB ring holds them even if nothing drains it meanwhile.
    const run = await captureAround(ONLY_TRIGGER, () => trigger("burst", "20000"));
    expect(run.result[0].calls).toBe(20000);
    expect(run.json.length).toBe(20000);
    const events = run.items.slice(1, -1);
    expect(events.length).toBe(20000);
    expect(new Set(events.map((e: any) => e.hostProcessId))).toEqual(new Set([run.result[0].pid]));
    const trailer = run.items.at(-1);
    expect(trailer).toMatchObject({ trailer: true, events: 20000, lost: 0 });
    expect(run.finished.stderr).toContain("20000 events captured");
  });

  test("a burst of 100,000 calls into a 1 MiB ring: every call is written or counted lost", async () => {
    const run = await captureAround([...ONLY_TRIGGER, "--buffer-size", "1"], () => trigger("burst", "100000"));
    const trailer = run.items.at(-1);
    expect(run.items.length - 2).toBe(trailer.events);
    expect(run.json.length).toBe(trailer.events);
    expect(trailer.events + trailer.lost).toBe(100000);
    expect(run.finished.stderr).toContain(`${trailer.lost} lost (failed-attempts ring full: ${trailer.lost},`);
    // The ring wraps some hundred times: every record read across its end is
    // whole (a piece left out would bring stale bytes of an earlier record:
    // a repeated callId, a timestamp going back).
    const [burst] = run.result;
    expect(new Set(run.json.map((e: any) => e.callId)).size).toBe(run.json.length);
    run.json.forEach((e: any, i: number) => i && expect(e.timestamp).toBeGreaterThan(run.json[i - 1].timestamp));
    for (const e of run.json) {
      expect(e).toMatchObject({ eventName: "delete_module", hostProcessId: burst.pid, processName: "mt-trigger" });
      expect(arg(e, "name").value).toBe("mt_burst");
      expect(e.executable.path).toBe(TRIGGER);
    }
  });
});
