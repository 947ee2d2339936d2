// Sealed logs from real captures on this host (root), checked by `modtrace
// verify`: intact as written, and each kind of damage named. The events are
// the trigger's calls, so the logs hold something between their seals.
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Capture, scratchDir, trigger } from "./harness";
import { runModtrace } from "../lib/modtrace";
import { cborItems } from "../lib/cbor";

const ONLY_TRIGGER = ["--comm", "mt-trigger"];
const verify = (...args: string[]) => runModtrace(["verify", ...args]);

function keyOf(stderr: string): string {
  const key = /^modtrace: seal key ([0-9a-f]{64}): keep it off this host/m.exec(stderr)?.[1];
  expect(key).toBeDefined();
  return key!;
}

/** Bursts of the trigger's calls with pauses past the seal interval between them. */
async function sealedCapture(args: string[]) {
  const c = await Capture.start([...ONLY_TRIGGER, "--seal-interval", "0.3", ...args]);
  for (let i = 0; i < 3; i++) {
    trigger("burst", "50");
    await Bun.sleep(700);
  }
  const done = await c.stop();
  expect(done.exitCode).toBe(0);
  return done;
}

test("a capture's sealed log: intact with its key; the same bytes on standard output; a byte changed, a cut and a wrong key each named", async () => {
  const dir = scratchDir();
  const file = join(dir, "log.cbor");
  const done = await sealedCapture(["-o", `cbor:${file}`, "-o", "cbor"]);
  const key = keyOf(done.stderr);
  // The capturing line scripts wait for is still there, after the key's.
  expect(done.stderr.indexOf("seal key")).toBeLessThan(done.stderr.indexOf("modtrace: capturing"));
  const bytes = readFileSync(file);
  expect(Buffer.from(done.stdoutBytes).equals(bytes)).toBe(true);
  const items = cborItems(bytes);
  const seals = items.filter((i) => i.seal !== undefined);
  expect(items.filter((i) => i.eventName === "delete_module").length).toBe(150);
  // Three bursts a seal interval apart: a seal after each, and the trailer's.
  expect(seals.length).toBeGreaterThanOrEqual(3);
  expect(items.at(-1).trailer).toBe(true);
  expect(items.at(-1).seal.seq).toBe(seals.length - 1);

  const ok = verify("--key", key, file);
  expect(ok.stdout).toContain(`${file}: intact: ${items.length} items, ${seals.length} seals`);
  expect(ok.exitCode).toBe(0);

  // The 75th event's comm, one letter changed.
  const changed = Buffer.from(bytes);
  let at = -1;
  for (let n = 0; n < 75; n++) at = changed.indexOf("mt-trigger", at + 1);
  changed[at + 1] ^= 0x01;
  writeFileSync(file, changed);
  const r = verify("--key", key, file);
  expect(r.stdout).toContain("CHANGED");
  expect(r.stdout).toMatch(/items \d+\.\.\d+ \(bytes \d+\.\.\d+\) changed: the chain in seal \d+/);
  const [, from, to] = /items (\d+)\.\.(\d+) \(bytes (\d+)/.exec(r.stdout)!.map(Number);
  // The changed event lies in the range named.
  const sizes = itemOffsets(bytes);
  const hit = sizes.findIndex((o, i) => o <= at && at < (sizes[i + 1] ?? bytes.length));
  expect(hit).toBeGreaterThanOrEqual(from);
  expect(hit).toBeLessThanOrEqual(to);
  expect(r.exitCode).toBe(1);

  writeFileSync(file, bytes.subarray(0, bytes.length - 100));
  const cut = verify("--key", key, file);
  expect(cut.stdout).toContain("cut mid-item");
  expect(cut.stdout).toContain("no trailer");
  expect(cut.exitCode).toBe(1);

  writeFileSync(file, bytes);
  const wrong = verify("--key", "00".repeat(32), file);
  expect(wrong.stdout).toContain("the key given is not this log's");
  expect(wrong.exitCode).toBe(1);
  rmSync(dir, { recursive: true });
});

/** Where each item starts, found by re-encoding nothing: each item's length
 * is the distance to the next item the strict decoder (cbor2) agrees on. */
function itemOffsets(bytes: Buffer): number[] {
  const script = `
import cbor2, io, sys
data = io.BytesIO(sys.stdin.buffer.read())
while data.tell() < len(data.getbuffer()):
    print(data.tell())
    cbor2.load(data)`;
  const run = Bun.spawnSync(["/usr/bin/python3", "-c", script], { stdin: bytes, stdout: "pipe", stderr: "pipe" });
  expect(run.exitCode).toBe(0);
  return run.stdout.toString().trim().split("\n").map(Number);
}

test("--seal-key-file: the key in a new file of mode 0600, not on stderr; a file already there is refused before capturing", async () => {
  const dir = scratchDir();
  const file = join(dir, "log.cbor");
  const keyFile = join(dir, "seal.key");
  const done = await sealedCapture(["-o", `cbor:${file}`, "--seal-key-file", keyFile]);
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  const key = readFileSync(keyFile, "utf8").trim();
  expect(key).toMatch(/^[0-9a-f]{64}$/);
  expect(done.stderr).not.toContain(key);
  expect(done.stderr).toContain(`seal key written to ${keyFile}`);
  const ok = verify("--key-file", keyFile, file);
  expect(ok.stdout).toContain("intact");
  expect(ok.exitCode).toBe(0);
  const again = runModtrace([...ONLY_TRIGGER, "--duration", "1", "-o", `cbor:${join(dir, "other.cbor")}`, "--seal-key-file", keyFile]);
  expect(again.exitCode).toBe(1);
  expect(again.stderr).toContain(`cannot create the seal key file ${keyFile}`);
  expect(again.stderr).not.toContain("capturing");
  expect(readFileSync(keyFile, "utf8").trim()).toBe(key);
  rmSync(dir, { recursive: true });
});

test("a rotated set: verified in any order; a file removed from the middle is named as missing", async () => {
  const dir = scratchDir();
  const logDir = join(dir, "logs") + "/";
  const c = await Capture.start([...ONLY_TRIGGER, "-o", `cbor:${logDir}`, "--rotate-size", "64K", "--seal-interval", "0.3"]);
  trigger("burst", "1000");
  await Bun.sleep(500);
  const done = await c.stop();
  expect(done.exitCode).toBe(0);
  const key = keyOf(done.stderr);
  const files = readdirSync(logDir).sort().map((f) => join(logDir, f));
  expect(files.length).toBeGreaterThan(3);
  const ok = verify("--key", key, ...[...files].reverse());
  expect(ok.stdout).toContain(`${files.length} files, each following the one before`);
  expect(ok.exitCode).toBe(0);
  const gone = files[2];
  rmSync(gone);
  expect(existsSync(gone)).toBe(false);
  const r = verify("--key", key, ...files.filter((f) => f !== gone));
  expect(r.stdout).toContain(`file of part 3 missing between`);
  expect(r.stdout).toContain(`(part 3 was ${gone.split("/").at(-1)})`);
  expect(r.exitCode).toBe(1);
  rmSync(dir, { recursive: true });
});

test("SIGKILL: no trailer; verify names the cut, and the last seal's health says how complete the log was up to it", async () => {
  const dir = scratchDir();
  const file = join(dir, "log.cbor");
  const c = await Capture.start([...ONLY_TRIGGER, "--seal-interval", "0.2", "--heartbeat", "0.2", "-o", `cbor:${file}`]);
  trigger("burst", "40");
  // A seal whose health counts the 40 events: the file is read while written,
  // so a last item cut mid-write is simply not decoded yet.
  const healthOf = () => {
    try {
      return cborItems(readFileSync(file)).filter((i) => i.health).at(-1)?.health;
    } catch {
      return undefined;
    }
  };
  const deadline = Date.now() + 60_000;
  while ((healthOf()?.events !== 40 || !healthOf()?.heartbeatRounds) && Date.now() < deadline) await Bun.sleep(50);
  const health = healthOf();
  expect(health).toMatchObject({ events: 40, lost: 0, tampered: 0, heartbeatSilent: 0, hookMisses: 0 });
  // Every round judged by then was answered by every hook.
  expect(health.heartbeatAnswered).toBe(health.heartbeatRounds);
  const done = await c.stop("SIGKILL");
  const r = verify("--key", keyOf(done.stderr), file);
  expect(r.exitCode).toBe(1);
  expect(r.stdout).toContain("no trailer");
  expect(r.stdout).toMatch(/vouches for items 0\.\.\d+; at that seal: 40 events written, 0 lost \(bulk ring full: 0, priority ring full: 0, no in-flight slot: 0\), 0 tamperings seen, 0 program runs skipped by the kernel, heartbeat (\d+) of \1 rounds answered by every hook/);
  rmSync(dir, { recursive: true });
});
