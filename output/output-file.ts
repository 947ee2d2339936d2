// Opening an output file where others may have been first. modtrace runs as
// root and writes where it is told; whoever can write to that directory can
// plant something at the path before it starts: a symbolic link (to make
// root overwrite another file), a FIFO (to block the open for ever), or a
// file of their own (to be appended to or to keep). So:
// - a new file is created with O_EXCL, never through a link, mode 0600;
// - an existing regular file is refused unless overwriting was asked for;
// - a character device (a terminal, /dev/null) is written as it is: only
//   root can make one, so none can have been planted;
// - anything else (FIFO, socket, directory, block device) is refused, and
//   the open never waits on it (O_NONBLOCK, then fstat decides);
// - the directory it goes into must belong to root or to the caller and be
//   writable by no one else, and none above it writable by others without
//   the sticky bit: otherwise the checks above race an attacker who can
//   rename and replace entries in it.
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, realpathSync, statSync } from "node:fs";
import { dirname } from "node:path";

export class OutputFileError extends Error {}

export interface OutputFileOptions {
  /** Replace an existing regular file (--overwrite) instead of refusing it. */
  overwrite?: boolean;
}

const S_ISVTX = 0o1000; // the sticky bit (node's constants lack it)
const BASE = constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_CLOEXEC | constants.O_NONBLOCK;

/** Refuses a directory others could write into (see above); a missing one is left to the open to report. */
export function checkOutputDirectory(dir: string) {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return;
  }
  const st = statSync(real);
  const me = process.geteuid?.() ?? 0;
  if (st.uid !== 0 && st.uid !== me)
    throw new OutputFileError(`${dir} belongs to uid ${st.uid}, not to root or to you: its owner could replace what modtrace writes there; use a directory of root's or yours`);
  if (st.mode & 0o022)
    throw new OutputFileError(`${dir} is writable by ${st.mode & 0o002 ? "everyone" : "its group"} (mode ${(st.mode & 0o7777).toString(8)}): anyone who can write there could plant a file, a link or a FIFO at the output path; use a directory only root (or you) can write, or chmod go-w it`);
  for (let up = dirname(real); ; up = dirname(up)) {
    const above = statSync(up);
    if (above.mode & 0o002 && !(above.mode & S_ISVTX))
      throw new OutputFileError(`${dir} is inside ${up}, which everyone can write and which has no sticky bit: anyone could rename ${dir} away and put their own in its place`);
    if (up === "/") break;
  }
}

function kind(mode: number): string {
  const type = mode & constants.S_IFMT;
  if (type === constants.S_IFIFO) return "a FIFO";
  if (type === constants.S_IFSOCK) return "a socket";
  if (type === constants.S_IFDIR) return "a directory";
  if (type === constants.S_IFBLK) return "a block device";
  return "not a regular file";
}

/** A descriptor open for writing at path, under the rules above. */
export function openOutputFile(path: string, opts: OutputFileOptions = {}): number {
  checkOutputDirectory(dirname(path));
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(path);
  } catch {}
  if (!existing) {
    try {
      return openSync(path, BASE | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (e: any) {
      // Created between the look and the open: judged as any existing file, once.
      if (e.code !== "EEXIST") throw e;
      existing = lstatSync(path);
    }
  }
  if (existing.isSymbolicLink()) throw new OutputFileError("it is a symbolic link, which modtrace will not follow");
  if (existing.isFile() && !opts.overwrite) throw new OutputFileError("it exists; modtrace does not replace a file unless given --overwrite");
  if (!existing.isFile() && !existing.isCharacterDevice()) throw new OutputFileError(`it is ${kind(existing.mode)}, not a regular file`);
  let fd: number;
  try {
    fd = openSync(path, BASE);
  } catch (e: any) {
    // A FIFO swapped in after the look, with no reader: O_NONBLOCK fails rather than waits.
    if (e.code === "ENXIO") throw new OutputFileError("it is a FIFO, not a regular file");
    throw e;
  }
  const st = fstatSync(fd);
  // What was opened must be what was looked at: not swapped since.
  if (st.dev !== existing.dev || st.ino !== existing.ino || (st.mode & constants.S_IFMT) !== (existing.mode & constants.S_IFMT)) {
    closeSync(fd);
    throw new OutputFileError("it was replaced while modtrace opened it");
  }
  if (st.isFile()) ftruncateSync(fd, 0);
  return fd;
}

/** n random bytes as hex, for temporary names and nonces (web crypto:
 * loading node:crypto cost every start of modtrace some 20 ms). */
export function randomHex(n: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString("hex");
}
