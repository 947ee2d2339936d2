// Module images, put back together from the image ring's chunks and hashed
// (Bun's SHA-256), so that each load event carries the sha256 of the exact
// bytes the kernel was handed. A hash is given only for an image whose every
// byte arrived, in order: a partial image never produces one.
import { CryptoHasher } from "bun";
import * as layout from "../record/layout";
import type { ImageStore, SavingImage } from "./store";
import { executedFile, hashExecuted } from "./executed";

interface Pending {
  total: number;
  received: number;
  broken: boolean; // a chunk out of order or of another size: this image gets no hash
  hasher: CryptoHasher;
  saving?: SavingImage;
}

// Images whose load has not been seen yet (normally one or two at a time);
// past this many the oldest is given up, so a lost load record cannot make
// them pile up.
const MAX_PENDING = 64;
// Settled images, remembered for the other records of the same load: the
// module_load and the syscall's exit both carry the hash.
const MAX_SETTLED = 1024;

export interface ImageCounts {
  imagesHashed: number; // images hashed (each once, however many events carry it)
  imagesRingFull: number; // images the kernel could not fit in the image ring
  imagesLost: number; // images sent whole, of which chunks never reached modtrace
}

export class ImageAssembler {
  private pending = new Map<bigint, Pending>();
  private settled = new Map<bigint, Uint8Array | null>(); // image id -> digest, or null: no hash
  readonly counts: ImageCounts = { imagesHashed: 0, imagesRingFull: 0, imagesLost: 0 };

  /** hashing: false for --no-hash, which leaves the files of the programs the kernel runs unread too. */
  constructor(private store?: ImageStore, private hashing = true) {}

  /** Takes the chunk records among the first len bytes of view (each
   * layout.CHUNK_SIZE bytes, as mt_drain_images copies them). */
  addChunks(view: Uint8Array, len: number) {
    const dv = new DataView(view.buffer, view.byteOffset, len);
    for (let at = 0; at + layout.CHUNK_SIZE <= len; at += layout.CHUNK_SIZE) {
      const id = dv.getBigUint64(at + layout.CHUNK_OFF_IMAGE_ID, true);
      const offset = Number(dv.getBigUint64(at + layout.CHUNK_OFF_OFFSET, true));
      const total = Number(dv.getBigUint64(at + layout.CHUNK_OFF_TOTAL, true));
      const n = dv.getUint32(at + layout.CHUNK_OFF_LEN, true);
      let p = this.pending.get(id);
      if (offset === 0 && !this.settled.has(id)) p = this.begin(id, total);
      if (!p || p.broken) continue;
      const sane = dv.getUint16(at + layout.CHUNK_OFF_VERSION, true) === layout.LAYOUT_VERSION && n > 0 && n <= layout.CHUNK_BYTES;
      if (!sane || offset !== p.received || total !== p.total || p.received + n > p.total) {
        p.broken = true;
        p.saving?.abandon();
        continue;
      }
      const data = view.subarray(at + layout.CHUNK_OFF_DATA, at + layout.CHUNK_OFF_DATA + n);
      p.hasher.update(data);
      p.saving?.write(data);
      p.received += n;
    }
  }

  private begin(id: bigint, total: number): Pending {
    this.pending.get(id)?.saving?.abandon();
    this.pending.delete(id);
    if (this.pending.size >= MAX_PENDING) {
      const [oldest, p] = this.pending.entries().next().value!;
      p.saving?.abandon();
      this.pending.delete(oldest);
    }
    const p: Pending = { total, received: 0, broken: false, hasher: new CryptoHasher("sha256"), saving: this.store?.begin() };
    this.pending.set(id, p);
    return p;
  }

  private remember(id: bigint, digest: Uint8Array | null) {
    if (this.settled.size >= MAX_SETTLED) this.settled.delete(this.settled.keys().next().value!);
    this.settled.set(id, digest);
  }

  /** A load record says the kernel sent its image whole (IMAGE_SENT): the
   * digest of size bytes, or null when they did not all arrive. */
  private digest(id: bigint, size: number): Uint8Array | null {
    if (this.settled.has(id)) return this.settled.get(id)!;
    const p = this.pending.get(id);
    this.pending.delete(id);
    let digest: Uint8Array | null = null;
    if (p && !p.broken && p.received === size && p.total === size) {
      digest = new Uint8Array(p.hasher.digest() as Uint8Array);
      this.counts.imagesHashed++;
      p.saving?.finish(digest);
    } else {
      this.counts.imagesLost++;
      p?.saving?.abandon();
    }
    this.remember(id, digest);
    return digest;
  }

  /** The kernel gave up on this image (IMAGE_RING_FULL): its chunks so far go. */
  private ringFull(id: bigint) {
    if (this.settled.has(id)) return;
    this.pending.get(id)?.saving?.abandon();
    this.pending.delete(id);
    this.counts.imagesRingFull++;
    this.remember(id, null);
  }

  /** Settles the records at these offsets of records (the decoder's input):
   * an IMAGE_SENT record gets its digest (IMAGE_HASHED) or IMAGE_LOST; an
   * IMAGE_ON_DISK one the digest of its file, or IMAGE_UNREAD. */
  settle(records: Uint8Array, offsets: Uint32Array) {
    const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
    for (const at of offsets) {
      const id = dv.getBigUint64(at + layout.REC_OFF_CALL_ID, true);
      const state = dv.getUint8(at + layout.REC_OFF_IMAGE_STATE);
      if (state === layout.IMAGE_ON_DISK) {
        this.settleExecuted(records, dv, at);
        continue;
      }
      if (state === layout.IMAGE_RING_FULL) {
        this.ringFull(id);
        continue;
      }
      const digest = this.digest(id, Number(dv.getBigUint64(at + layout.REC_OFF_IMAGE_SIZE, true)));
      if (digest) records.set(digest, at + layout.REC_OFF_SHA256);
      dv.setUint8(at + layout.REC_OFF_IMAGE_STATE, digest ? layout.IMAGE_HASHED : layout.IMAGE_LOST);
    }
  }

  private settleExecuted(records: Uint8Array, dv: DataView, at: number) {
    if (!this.hashing) {
      dv.setUint8(at + layout.REC_OFF_IMAGE_STATE, layout.IMAGE_NO_HOOK);
      return;
    }
    const hashed = hashExecuted(executedFile(dv, at));
    if (hashed) {
      records.set(hashed.digest, at + layout.REC_OFF_SHA256);
      dv.setBigUint64(at + layout.REC_OFF_IMAGE_SIZE, BigInt(hashed.size), true);
    }
    dv.setUint8(at + layout.REC_OFF_IMAGE_STATE, hashed ? layout.IMAGE_HASHED : layout.IMAGE_UNREAD);
  }

  /** At the end: images whose load was never seen are not saved. */
  close() {
    for (const p of this.pending.values()) p.saving?.abandon();
    this.pending.clear();
  }
}
