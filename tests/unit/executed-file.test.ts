// The file of a program the kernel ran (call_usermodehelper), hashed by
// user space: the very file the kernel ran or none, and never a stall of the
// capture loop on a file an attacker chose. Digests are node:crypto's.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, closeSync, copyFileSync, openSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { digestFd, hashExecuted, MAX_BYTES } from "../../images/executed";
import { kernelDev } from "../lib/devices";

const dir = mkdtempSync(join(tmpdir(), "mt-executed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const hex = (h: { digest: Uint8Array } | undefined) => (h ? Buffer.from(h.digest).toString("hex") : undefined);
/** The kernel's dev_t and inode of path, as the record carries them. */
function kernelId(path: string) {
  const st = statSync(path, { bigint: true });
  return { dev: kernelDev(st.dev).value, ino: st.ino };
}
const NO_PID = 0x7ffffff0; // no such process: /proc/PID/exe is not there

test("the program the record names: hashed by its path while it is that file", () => {
  const prog = join(dir, "prog");
  copyFileSync("/bin/true", prog);
  const got = hashExecuted({ hostPid: NO_PID, path: prog, ...kernelId(prog) });
  expect(hex(got)).toBe(sha(prog));
  expect(got!.size).toBe(statSync(prog).size);
});

test("a path that names another file now: no hash, unless the program still runs (its /proc/PID/exe)", async () => {
  const prog = join(dir, "swapped");
  copyFileSync("/bin/sleep", prog);
  const ran = kernelId(prog);
  const running = spawn(prog, ["60"], { stdio: "ignore" });
  await new Promise((resolve) => running.once("spawn", resolve));
  try {
    const original = sha(prog);
    renameSync(prog, `${prog}.old`); // kept: a freed inode number could come back for the new file
    writeFileSync(prog, "\x7fELF not the program that ran");
    expect(hashExecuted({ hostPid: NO_PID, path: prog, ...ran })).toBeUndefined();
    rmSync(`${prog}.old`); // unlinked: only the running process still holds it
    expect(hex(hashExecuted({ hostPid: running.pid!, path: prog, ...ran }))).toBe(original);
  } finally {
    running.kill();
  }
});

test("a script: the record names its interpreter; the script is what gets hashed", () => {
  const script = join(dir, "helper.sh");
  writeFileSync(script, "#!/bin/sh\necho hi\n");
  chmodSync(script, 0o755);
  expect(hex(hashExecuted({ hostPid: NO_PID, path: script, ...kernelId("/bin/sh") }))).toBe(sha(script));
});

test("nothing that could stall the capture: a FIFO in the path's place, a file over the limit", () => {
  const fifo = join(dir, "fifo");
  expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
  expect(hashExecuted({ hostPid: NO_PID, path: fifo, ...kernelId(fifo) })).toBeUndefined();
  const big = join(dir, "big");
  writeFileSync(big, "#!/bin/sh\n");
  truncateSync(big, MAX_BYTES + 1);
  expect(hashExecuted({ hostPid: NO_PID, path: big, ...kernelId(big) })).toBeUndefined();
  truncateSync(big, MAX_BYTES);
  expect(hashExecuted({ hostPid: NO_PID, path: big, ...kernelId(big) })?.size).toBe(MAX_BYTES);
});

test("a digest is given up past its bound, read as the file is (a file that grows while read does not hold the reader)", () => {
  const file = join(dir, "bounded");
  writeFileSync(file, "0123456789");
  const fd = openSync(file, "r");
  try {
    expect(digestFd(fd, "sha256", 9)).toBeUndefined();
  } finally {
    closeSync(fd);
  }
  const again = openSync(file, "r");
  try {
    expect(Buffer.from(digestFd(again, "sha256", 10)!.digest).toString("hex")).toBe(sha(file));
  } finally {
    closeSync(again);
  }
});

