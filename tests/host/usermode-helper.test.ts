// A program the kernel runs of its own accord (call_usermodehelper), on this
// machine's kernel: without modules there is no autoload, but a core_pattern
// pipe makes the kernel run a helper for a crash the same way. The truth is
// the script's own bytes (node:crypto) and what the helper wrote as it ran.
import { afterEach, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { arg, Capture, findingLines, jsonLines, scratchDir } from "./harness";
import { kernelDev } from "../lib/devices";

const CORE_PATTERN = "/proc/sys/kernel/core_pattern";
const stock = readFileSync(CORE_PATTERN, "utf8").trimEnd();
afterEach(() => writeFileSync(CORE_PATTERN, stock));

/** Waits for a file to exist (what the helper writes as it runs). */
async function fileAppears(path: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} never appeared`);
    await Bun.sleep(20);
  }
}

test("a core_pattern helper: seen as it starts (path, argv, its script's sha256, a kernel thread its parent), judged unknown; other execs are not events", async () => {
  const dir = scratchDir();
  const script = join(dir, "mt-helper.sh");
  const ran = join(dir, "ran.txt");
  writeFileSync(script, `#!/bin/sh\necho "$$ $*" > ${ran}.tmp && mv ${ran}.tmp ${ran}\ncat > /dev/null\n`);
  chmodSync(script, 0o755);
  const capture = await Capture.start(["-e", "call_usermodehelper", "--heartbeat", "0", "-o", "json"]);
  writeFileSync(CORE_PATTERN, `|${script} %p`);
  // Processes exec'd by a shell (true, sh): not the kernel's helpers, not events.
  const crash = Bun.spawnSync(["sh", "-c", "ulimit -c unlimited; true; sh -c 'kill -SEGV $$'"]);
  expect(crash.exitCode).not.toBe(0);
  await fileAppears(ran);
  writeFileSync(CORE_PATTERN, stock);
  const [helperPid, crashedPid] = readFileSync(ran, "utf8").trim().split(" ").map(Number);
  await capture.stdoutHas('"finding":true');
  const done = await capture.stop();
  const events = jsonLines(done.stdout);
  expect(events.map((e) => e.eventName)).toEqual(["call_usermodehelper"]);
  const [e] = events;
  const sh = realpathSync("/bin/sh");
  expect(e.hostProcessId).toBe(helperPid);
  expect(arg(e, "pathname").value).toBe(script);
  // The kernel's argv (script, %p), with the interpreter the script names first.
  expect(arg(e, "argv").value).toBe(`/bin/sh ${script} ${crashedPid}`);
  // The file that runs is the interpreter; the hash is the script's.
  expect(e.executable.path).toBe(sh);
  expect(arg(e, "dev").value).toBe(kernelDev(statSync(sh, { bigint: true }).dev).value);
  expect(BigInt(arg(e, "inode").value)).toBe(statSync(sh, { bigint: true }).ino);
  expect(e.sha256).toBe(createHash("sha256").update(readFileSync(script)).digest("hex"));
  expect(e.size).toBe(readFileSync(script).length);
  expect(e.userId).toBe(0);
  expect(e.ancestors[0].executable.path).toBeNull(); // a kernel thread: no executable
  const findings = findingLines(done.stdout);
  expect(findings.map((f) => `${f.eventName} ${f.severity}`)).toEqual(["kernel_ran_program high"]);
  expect(findings[0].details).toMatchObject({ pathname: script, executable: sh, sha256: e.sha256 });
});
