// --save-modules DIR: every distinct module image once, as DIR/<sha256>.ko,
// byte for byte what the kernel was handed. Written while it streams in, to
// a temporary file created exclusively (never through a symbolic link),
// then renamed to its hash once the hash is known; mode 0600, since a module
// can hold secrets. Stops saving, and says so, past --save-limit bytes.
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

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
  private serial = 0;

  private constructor(readonly dir: string, private limit: number, readonly warn: (line: string) => void) {}

  /** Checks (or makes, mode 0700) DIR before anything is attached. */
  static open(dir: string, limitBytes: number, warn: (line: string) => void): ImageStore {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const st = lstatSync(dir);
      if (st.isSymbolicLink()) throw new ImageStoreError(`--save-modules ${dir} is a symbolic link; give the real directory`);
      if (!st.isDirectory()) throw new ImageStoreError(`--save-modules ${dir} is not a directory`);
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
    const path = join(this.dir, `.partial-${process.pid}-${++this.serial}`);
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      return new SavingImage(this, fd, path);
    } catch (e) {
      this.stop(`cannot create a file in ${this.dir}: ${(e as Error).message}`);
      this.counts.imagesNotSaved++;
      return undefined;
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
    const target = join(this.store.dir, `${Buffer.from(digest).toString("hex")}.ko`);
    let existing: ReturnType<typeof lstatSync> | undefined;
    try {
      existing = lstatSync(target);
    } catch {}
    try {
      if (existing?.isFile() && existing.size === fstatSync(this.fd).size) {
        this.store.counts.imagesAlreadySaved++;
        this.discard();
      } else if (existing) {
        this.store.warn(`not saving ${target}: something else has that name`);
        this.store.counts.imagesNotSaved++;
        this.discard();
      } else {
        closeSync(this.fd);
        renameSync(this.path, target);
        this.store.counts.imagesSaved++;
      }
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
