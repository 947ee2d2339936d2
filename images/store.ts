// --save-modules DIR: every distinct module image once, as DIR/<sha256>.ko,
// byte for byte what the kernel was handed. Written while it streams in, to
// a temporary file with a random name created exclusively (never through a
// symbolic link), then renamed to its hash once the hash is known; mode
// 0600, since a module can hold secrets. Stops saving, and says so, past
// --save-limit bytes. DIR is evidence: no component of its path may be a
// symbolic link, and it must be writable by root (or the caller) alone
// (output-file.ts), so nobody else can swap it or plant files in it; a file
// already there counts as saved only if its bytes hash to its name.
import { closeSync, constants, lstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { checkOutputDirectory, randomHex } from "../output/output-file";

export class ImageStoreError extends Error {}

export interface SaveCounts {
  imagesSaved: number; // new files written
  imagesAlreadySaved: number; // images whose file was there already
  imagesNotSaved: number; // images left out: --save-limit reached, or a write failed
}

export class ImageStore {
  readonly counts: SaveCounts = { imagesSaved: 0, imagesAlreadySaved: 0, imagesNotSaved: 0 };
  private bytes = 0; // kept files and the ones being written
  private stopped?: string;

  private constructor(readonly dir: string, private limit: number, readonly warn: (line: string) => void) {}

  /** Checks (or makes, mode 0700) DIR before anything is attached. */
  static open(dir: string, limitBytes: number, warn: (line: string) => void): ImageStore {
    try {
      noLinkOnTheWay(dir);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      noLinkOnTheWay(dir);
      if (!lstatSync(dir).isDirectory()) throw new ImageStoreError(`--save-modules ${dir} is not a directory`);
      checkOutputDirectory(dir);
    } catch (e) {
      if (e instanceof ImageStoreError) throw e;
      throw new ImageStoreError(`--save-modules ${dir}: ${(e as Error).message}`);
    }
    return new ImageStore(dir, limitBytes, warn);
  }

  /** A file for one image, or undefined once saving has stopped. */
  begin(): SavingImage | undefined {
    if (this.stopped) {
      this.counts.imagesNotSaved++;
      return undefined;
    }
    // Random, so nobody can plant the next name in advance; a clash is tried again.
    for (let attempt = 0; ; attempt++) {
      const path = join(this.dir, `.partial-${randomHex(12)}`);
      try {
        const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_CLOEXEC, 0o600);
        return new SavingImage(this, fd, path);
      } catch (e: any) {
        if (e.code === "EEXIST" && attempt < 8) continue;
        this.stop(`cannot create a file in ${this.dir}: ${(e as Error).message}`);
        this.counts.imagesNotSaved++;
        return undefined;
      }
    }
  }

  /** Room for n more bytes under --save-limit. */
  take(n: number): boolean {
    if (this.bytes + n > this.limit) {
      this.stop(`--save-limit (${this.limit} bytes) reached`);
      return false;
    }
    this.bytes += n;
    return true;
  }

  give(n: number) {
    this.bytes -= n;
  }

  stop(why: string) {
    if (this.stopped) return;
    this.stopped = why;
    this.warn(`stopped saving module images: ${why}; ${this.counts.imagesSaved} saved in ${this.dir}`);
  }
}

export class SavingImage {
  private written = 0;
  private done = false;

  constructor(private store: ImageStore, private fd: number, private path: string) {}

  write(data: Uint8Array) {
    if (this.done) return;
    if (!this.store.take(data.length)) return this.fail();
    try {
      for (let off = 0; off < data.length; ) off += writeSync(this.fd, data, off, data.length - off);
      this.written += data.length;
    } catch (e) {
      this.store.give(data.length);
      this.store.stop(`writing ${this.path} failed: ${(e as Error).message}`);
      this.fail();
    }
  }

  private fail() {
    this.store.counts.imagesNotSaved++;
    this.abandon();
  }

  /** The image is whole and its digest known: it becomes DIR/<sha256>.ko,
   * unless that file is there already (the same image, saved before). */
  finish(digest: Uint8Array) {
    if (this.done) return;
    this.done = true;
    const hex = Buffer.from(digest).toString("hex");
    const target = join(this.store.dir, `${hex}.ko`);
    try {
      const there = fileSha256(target);
      if (there === hex) {
        this.store.counts.imagesAlreadySaved++;
        this.discard();
        return;
      }
      // Something else holds the image's name: the image takes it (rename
      // replaces a file or a link, atomically), and the stand-in is named.
      if (there !== undefined) this.store.warn(`replacing ${target}: it held ${there === "" ? "no regular file" : `bytes whose sha256 is ${there}`}, not the image`);
      closeSync(this.fd);
      renameSync(this.path, target);
      this.store.counts.imagesSaved++;
    } catch (e) {
      this.store.warn(`saving ${target} failed: ${(e as Error).message}`);
      this.store.counts.imagesNotSaved++;
      this.discard();
    }
  }

  /** The image will get no hash (or saving stopped): its file goes. */
  abandon() {
    if (this.done) return;
    this.done = true;
    this.discard();
  }

  private discard() {
    this.store.give(this.written);
    this.written = 0;
    try {
      closeSync(this.fd);
    } catch {}
    try {
      unlinkSync(this.path);
    } catch {}
  }
}

/** Refuses a path with a symbolic link in any component that exists: each
 * is looked at with lstat, from the root down, so none can send the images
 * somewhere else. */
function noLinkOnTheWay(dir: string) {
  const parts = resolve(dir).split(sep).filter(Boolean);
  let at = "";
  for (const part of parts) {
    at += sep + part;
    let st;
    try {
      st = lstatSync(at);
    } catch (e: any) {
      if (e.code === "ENOENT") return; // made by mkdir, as a directory
      throw e;
    }
    if (st.isSymbolicLink()) throw new ImageStoreError(`--save-modules ${dir}: ${at} is a symbolic link, which modtrace will not follow; give the real path`);
  }
}

/** The sha256 of the regular file at path, "" for anything else there, undefined for nothing there. */
function fileSha256(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_CLOEXEC);
  } catch (e: any) {
    return e.code === "ENOENT" ? undefined : "";
  }
  try {
    const hasher = new Bun.CryptoHasher("sha256");
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hasher.update(buf.subarray(0, n));
    return hasher.digest("hex");
  } catch {
    return ""; // a directory, or unreadable
  } finally {
    closeSync(fd);
  }
}
