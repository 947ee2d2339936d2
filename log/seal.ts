// Forward-secure sealing of CBOR logs (the idea of systemd-journal's Forward
// Secure Sealing, done simply). Every log file keeps a running SHA-256 over
// the exact bytes of its items; a seal (a seal item, or the seal map of a
// trailer) records that chain and an HMAC-SHA256 of its own bytes under the
// key of the current epoch. After each sealing moment the key evolves,
// k[e+1] = SHA-256(EVOLVE || k[e]), and the old key is zero-filled: whoever
// reads the process later holds k[e] and can forge seals of epoch e and on,
// never of an earlier one. k0 leaves the host at start (stderr or
// --seal-key-file); `modtrace verify --key` derives any k[e] from it.
// Bun's own hasher, not node:crypto's: loading that module (and the streams
// it brings) cost every start of modtrace some 20 ms.
// timingSafeEqual, which only node:crypto has, is loaded when a seal is checked.

export const KEY_BYTES = 32;
const EVOLVE = "modtrace seal key\0";
const KEY_ID = "modtrace seal key id\0";
const MAC_LABEL = "modtrace seal mac v1\0";
/** A seal's mac is the last thing in its item: a 64-character hex text
 * string, written as zeros first, then filled in (see macInput). */
export const ZERO_MAC = "0".repeat(64);
/** The head of a 64-byte CBOR text string: major type 3, one length byte. */
const MAC_HEAD = [0x78, 0x40];
/** Beyond this, an epoch is forged: a capture seals once per --seal-interval and per rotation. */
export const MAX_EPOCH = 1 << 24;

/** What a seal records (the mac comes last, added by sealMap). */
export interface SealFields {
  seq: number; // 0, 1, 2 … in this file
  items: number; // items before it in this file, the header included
  chain: string; // hex SHA-256 of every byte of the file before it
  epoch: number; // the key epoch it is made with
  time: bigint; // wall clock, ns
}

/** The seal map as written, mac last. */
export function sealMap(s: SealFields) {
  return { seq: s.seq, items: s.items, chain: s.chain, epoch: s.epoch, time: s.time, mac: ZERO_MAC };
}

/** The key's fingerprint for the header: tells verify a wrong key from a forged log. */
export function keyId(k0: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(KEY_ID).update(k0).digest().subarray(0, 8).toString("hex");
}

export function evolve(k: Uint8Array): Buffer {
  return new Bun.CryptoHasher("sha256").update(EVOLVE).update(k).digest();
}

/** The bytes an item's mac is over: a label, then the item with its mac as zeros.
 * Undefined when the item does not end in a 64-character text string. */
export function macInput(item: Uint8Array): Buffer | undefined {
  const at = item.length - 64;
  if (at < 2 || item[at - 2] !== MAC_HEAD[0] || item[at - 1] !== MAC_HEAD[1]) return undefined;
  const copy = Buffer.concat([Buffer.from(MAC_LABEL), item]);
  copy.fill(0x30, copy.length - 64);
  return copy;
}

export function macOf(key: Uint8Array, item: Uint8Array): string | undefined {
  const input = macInput(item);
  return input && new Bun.CryptoHasher("sha256", key).update(input).digest("hex");
}

/** The mac the item carries (its last 64 bytes), if it has the shape. */
export function macCarried(item: Uint8Array): string | undefined {
  return macInput(item) ? Buffer.from(item.subarray(item.length - 64)).toString("latin1") : undefined;
}

export function macMatches(key: Uint8Array, item: Uint8Array): boolean {
  const want = macOf(key, item);
  const got = macCarried(item);
  return want !== undefined && got !== undefined && got.length === want.length && require("node:crypto").timingSafeEqual(Buffer.from(want), Buffer.from(got));
}

/** The capture's evolving key: one sequence for every cbor output. */
export class SealKey {
  private key: Buffer;
  epoch = 0;
  readonly id: string;

  private constructor(k0: Buffer, readonly intervalSec: number) {
    this.key = k0;
    this.id = keyId(k0);
  }

  /** A fresh random k0. Its hex is returned once, for the user to take off the host. */
  static generate(intervalSec: number): { key: SealKey; k0Hex: string } {
    const k0 = Buffer.alloc(KEY_BYTES);
    crypto.getRandomValues(k0);
    return { key: new SealKey(k0, intervalSec), k0Hex: k0.toString("hex") };
  }

  /** For tests and verify: a given k0. */
  static from(k0: Uint8Array, intervalSec = 10): SealKey {
    return new SealKey(Buffer.from(k0), intervalSec);
  }

  /** Fills in the mac of an item built with sealMap, in place, under this epoch's key. */
  sign(item: Uint8Array): Uint8Array {
    const mac = macOf(this.key, item);
    if (mac === undefined) throw new Error("a sealed item must end with its mac");
    item.set(Buffer.from(mac, "latin1"), item.length - 64);
    return item;
  }

  /** The next epoch; the old key's bytes are overwritten. */
  evolve() {
    const next = evolve(this.key);
    this.key.fill(0);
    this.key = next;
    this.epoch++;
  }

  /** At the end of the capture: nothing more is to be sealed. */
  destroy() {
    this.key.fill(0);
  }
}

/** Derives k[e] from k0, forward only (verify's side). */
export class KeyDeriver {
  private key: Buffer;
  private epoch = 0;
  readonly id: string;

  constructor(private readonly k0: Uint8Array) {
    this.key = Buffer.from(k0);
    this.id = keyId(k0);
  }

  at(epoch: number): Buffer {
    if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new RangeError(`epoch ${epoch} is out of range`);
    if (epoch < this.epoch) {
      this.key = Buffer.from(this.k0);
      this.epoch = 0;
    }
    while (this.epoch < epoch) {
      this.key = evolve(this.key);
      this.epoch++;
    }
    return this.key;
  }
}

/** A hex key as given to verify (--key, --key-file); undefined when it is not one. */
export function parseKey(text: string): Uint8Array | undefined {
  const hex = text.trim();
  return /^[0-9a-fA-F]{64}$/.test(hex) ? Buffer.from(hex, "hex") : undefined;
}
