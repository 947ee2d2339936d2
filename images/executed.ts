// The file of a program the kernel ran (call_usermodehelper), hashed here:
// the kernel reads no more than a page of it, so no hook is handed the whole
// file as with a module. The record names the file that runs (file_dev,
// file_ino): the bytes hashed are those of that very file, read through the
// path the kernel was given while it is still that file, else through the
// helper's /proc/PID/exe while it runs (even if its path was unlinked). A
// script's record names its interpreter: the script is hashed by its path,
// which no inode confirms (see the README).
//
// This runs in the capture loop, so a file chosen by an attacker must not
// stall it: no file over MAX_BYTES is read, nothing but a regular file is
// opened (O_NONBLOCK: a FIFO put in the path's place does not block), and
// nothing on a filesystem whose reads another process or host answers
// (FUSE, NFS, CIFS, 9p, Ceph), told by its device in /proc/self/mountinfo
// without asking that filesystem anything.
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { CryptoHasher } from "bun";
import * as layout from "../record/layout";

/** The kernel's dev_t (major << 20 | minor) as Node gives st_dev (glibc's makedev). */
function userDev(kdev: number): number {
  const major = kdev >>> 20;
  const minor = kdev & 0xfffff;
  return (minor & 0xff) + (major & 0xfff) * 0x100 + (minor >>> 8) * 0x100000;
}

/** Larger files are not hashed: the capture loop waits for the hash. */
export const MAX_BYTES = 64 << 20;

const REMOTE = /^(fuse|fuseblk|nfs|nfs4|cifs|smb3|9p|ceph|afs|glusterfs|sshfs)(\.|$)/;

/** The devices (Node's st_dev) whose filesystem answers reads from
 * elsewhere, from one read of /proc/self/mountinfo; undefined when it cannot
 * be read (then nothing is). */
function remoteDevices(): Set<number> | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return undefined;
  }
  const remote = new Set<number>();
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const dash = f.indexOf("-");
    if (dash < 0 || !REMOTE.test(f[dash + 1] ?? "")) continue;
    const [major, minor] = (f[2] ?? "").split(":").map(Number);
    remote.add(userDev(major * 0x100000 + minor));
  }
  return remote;
}

/** The digest and size of the file open at fd, read to its end; undefined
 * when it holds more than maxBytes (a file that grows while it is read,
 * too), so no reader is held by a file without end. */
export function digestFd(fd: number, algorithm: "sha256" | "md5", maxBytes = Infinity): { digest: Uint8Array; size: number } | undefined {
  const hasher = new CryptoHasher(algorithm);
  const buf = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
    size += n;
    if (size > maxBytes) return undefined;
    hasher.update(buf.subarray(0, n));
  }
  return { digest: new Uint8Array(hasher.digest() as Uint8Array), size };
}

function startsWithShebang(fd: number): boolean {
  const two = Buffer.alloc(2);
  return readSync(fd, two, 0, 2, 0) === 2 && two.toString("latin1") === "#!";
}

/** Opens path read-only without blocking on it (a FIFO put in its place), or
 * undefined when it cannot be. */
export function openNonBlocking(path: string): number | undefined {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
}

export interface ExecutedFile {
  hostPid: number;
  path: string | undefined; // the path the exec was given (bprm->filename)
  dev: number; // the kernel's dev_t of the file that runs
  ino: bigint;
}

/** The file's digest and size, or undefined when the file that ran cannot be read. */
export function hashExecuted(f: ExecutedFile): { digest: Uint8Array; size: number } | undefined {
  const dev = userDev(f.dev);
  const remote = remoteDevices();
  if (!remote || remote.has(dev)) return undefined;
  // The path first: a script is what it names (the record's file is its interpreter).
  for (const [path, script] of [[f.path, true], [`/proc/${f.hostPid}/exe`, false]] as const) {
    if (!path) continue;
    const fd = openNonBlocking(path);
    if (fd === undefined) continue;
    try {
      const st = fstatSync(fd, { bigint: true });
      const readable = st.isFile() && st.size <= BigInt(MAX_BYTES) && !remote.has(Number(st.dev));
      const same = Number(st.dev) === dev && st.ino === f.ino;
      if (readable && ((script && startsWithShebang(fd)) || same)) return digestFd(fd, "sha256", MAX_BYTES);
    } catch {
      // unreadable: try the next way, or give no hash
    } finally {
      closeSync(fd);
    }
  }
  return undefined;
}

/** Reads a record's executed file (at `at` in records). */
export function executedFile(dv: DataView, at: number): ExecutedFile {
  let path: string | undefined;
  if (dv.getUint8(at + layout.REC_OFF_STR_STATE + layout.SLOT_FILE) === layout.STR_OK) {
    const off = dv.getUint16(at + layout.REC_OFF_STR_OFF + 2 * layout.SLOT_FILE, true);
    const n = dv.getUint16(at + layout.REC_OFF_STR_LEN + 2 * layout.SLOT_FILE, true);
    path = new TextDecoder().decode(new Uint8Array(dv.buffer, dv.byteOffset + at + off, n));
  }
  return {
    hostPid: dv.getUint32(at + layout.REC_OFF_HOST_PID, true),
    path,
    dev: dv.getUint32(at + layout.REC_OFF_FILE_DEV, true),
    ino: dv.getBigUint64(at + layout.REC_OFF_FILE_INO, true),
  };
}
