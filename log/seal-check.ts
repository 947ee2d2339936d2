// Whether sealed CBOR logs are as modtrace wrote them (`modtrace verify`,
// cmd/verify.ts). Per file it recomputes the running hash item by item (the
// items split where the reader splits them, item-bounds.ts), checks each
// seal's chain, count, order and, with the key, its mac under its epoch's
// key; per rotated set it checks that each file follows the one before it.
// It says where a log was cut, changed or reordered, as exactly as the seals
// allow: a change is placed between two seals, not within them.
import { Decoder } from "cbor-x/decode";
import { basename } from "node:path";
import { isSealItem, LOG_FORMAT } from "./log-items";
import { Incomplete, itemEnd } from "./item-bounds";
import { KeyDeriver, macMatches, MAX_EPOCH } from "./seal";

const cbor = new Decoder({ mapsAsObjects: true, useRecords: false });

/** intact: every seal checked with the key; unproven: the chain holds, no key given. */
export type Verdict = "intact" | "unproven" | "cut" | "changed" | "forged" | "wrong-key" | "unsealed";

interface SealSeen {
  seq: number;
  index: number; // the seal's own item number
  offset: number;
  epoch: number;
  time: bigint;
  /** What the capture knew of its completeness at this seal (log-items Health). */
  health?: Record<string, number>;
}

/** "at that seal: 150 events written, 0 lost, 0 tamperings seen" */
const healthText = (h: Record<string, number> | undefined) =>
  h
    ? `; at that seal: ${h.events} events written, ${h.lost} lost (bulk ring full: ${h.lostRingBuffer}, priority ring full: ${h.lostPriority}, no in-flight slot: ${h.lostInflight}), ${h.tampered} tampering${h.tampered === 1 ? "" : "s"} seen` +
      (h.hookMisses !== undefined ? `, ${h.hookMisses} program runs skipped by the kernel` : "") +
      (h.callsUntracked ? `, ${h.callsUntracked} calls not tracked` : "") +
      (h.heartbeatRounds !== undefined ? `, heartbeat ${h.heartbeatAnswered} of ${h.heartbeatRounds} rounds answered by every hook${h.heartbeatSilent ? ` (${h.heartbeatSilent} silent)` : ""}` : "")
    : "";

export interface FileCheck {
  file: string;
  verdict: Verdict;
  problems: string[];
  notes: string[];
  items: number;
  seals: number;
  /** The last seal whose chain held: it vouches for the items before it. */
  lastGoodSeal?: SealSeen;
  header?: any;
  trailer?: any;
  /** SHA-256 of the whole file, when it ends with its trailer: the next file's header names it. */
  finalChain?: string;
}

export interface SetCheck {
  capture: string; // host and start time
  files: string[]; // in part order
  problems: string[];
  notes: string[];
}

export const isoTime = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
const sealName = (s: SealSeen) => `seal ${s.seq} (item ${s.index}, offset ${s.offset}, ${isoTime(s.time)})`;
const range = (a: number, b: number) => (a === b ? `${a}` : `${a}..${b}`);

function isSealFields(s: any): boolean {
  const int = (v: any) => Number.isSafeInteger(v) && v >= 0;
  return int(s?.seq) && int(s.items) && int(s.epoch) && typeof s.chain === "string" && /^[0-9a-f]{64}$/.test(s.chain)
    && (typeof s.time === "bigint" || int(s.time)) && typeof s.mac === "string";
}

export function checkFile(file: string, bytes: Uint8Array, keys?: KeyDeriver): FileCheck {
  const c: FileCheck = { file, verdict: "intact", problems: [], notes: [], items: 0, seals: 0 };
  const flags = { changed: false, forged: false, cut: false, wrongKey: false };
  const changed = (message: string) => {
    c.problems.push(message);
    flags.changed = true;
  };
  if (bytes.length === 0) {
    c.verdict = "cut";
    c.problems.push("empty: no header, nothing vouched for");
    return c;
  }
  const hash = new Bun.CryptoHasher("sha256"); // not node:crypto: seal.ts says why
  const offsets: number[] = []; // of each item
  const undecodable: number[] = []; // item numbers
  let pos = 0;
  let index = 0;
  let chainHolds = true;
  let expectSeq = 0;
  let lastEpoch = -1;
  let trailerAt = -1;

  const checkSeal = (s: any, item: Uint8Array, health: any) => {
    if (!isSealFields(s)) return changed(`item ${index} (offset ${pos}) is a seal with missing or malformed fields: changed`);
    const seen: SealSeen = { seq: s.seq, index, offset: pos, epoch: s.epoch, time: BigInt(s.time), ...(health && typeof health === "object" && { health: Object.fromEntries(Object.entries(health).map(([k, v]) => [k, Number(v)])) }) };
    c.seals++;
    if (s.seq > expectSeq) changed(`seal${s.seq - expectSeq > 1 ? "s" : ""} ${range(expectSeq, s.seq - 1)} missing before ${sealName(seen)}`);
    else if (s.seq < expectSeq) changed(`${sealName(seen)} out of order: seal ${expectSeq} was expected there`);
    expectSeq = s.seq + 1;
    if (s.epoch <= lastEpoch) changed(`${sealName(seen)} is of key epoch ${s.epoch}, not after the previous seal's ${lastEpoch}: out of order or replayed`);
    lastEpoch = Math.max(lastEpoch, s.epoch);
    if (keys && !flags.wrongKey) {
      let ok = false;
      try {
        ok = s.epoch <= MAX_EPOCH && macMatches(keys.at(s.epoch), item);
      } catch {
        ok = false;
      }
      if (!ok) {
        c.problems.push(`the MAC of ${sealName(seen)} does not match the key (whose fingerprint is the header's): forged`);
        flags.forged = true;
      }
    }
    if (chainHolds) {
      const actual = hash.copy().digest("hex");
      if (actual !== s.chain || s.items !== index) {
        chainHolds = false;
        const prev = c.lastGoodSeal;
        const from = prev ? prev.index : 0;
        const counted = s.items !== index ? `; it counts ${s.items} items before it where there are ${index}: ${Math.abs(s.items - index)} ${s.items > index ? "removed" : "inserted"}` : "";
        const odd = undecodable.filter((n) => n >= from);
        changed(
          `items ${range(from, index - 1)} (bytes ${offsets[from]}..${pos - 1}) changed: the chain in ${sealName(seen)} differs from the bytes before it${counted}; `
            + `changed between ${prev ? sealName(prev) : "the start of the file"} and seal ${s.seq} (${isoTime(seen.time)})`
            + (odd.length ? `; item${odd.length > 1 ? "s" : ""} ${odd.join(", ")} do${odd.length > 1 ? "" : "es"} not decode` : ""),
        );
        c.notes.push("past a change the chain cannot be followed: the later seals were checked for order and MAC only");
      } else c.lastGoodSeal = seen;
    }
  };

  while (pos < bytes.length) {
    let end: number;
    try {
      end = itemEnd(bytes, pos);
    } catch (e) {
      if (trailerAt >= 0) changed(`${bytes.length - pos} bytes after the trailer, from offset ${pos}: appended`);
      else if (e instanceof Incomplete) {
        c.problems.push(`cut mid-item: the last ${bytes.length - pos} bytes, from offset ${pos}, are an incomplete item ${index}`);
        flags.cut = true;
      } else changed(`item ${index} at offset ${pos} is not well-formed CBOR (${(e as Error).message}): changed; nothing after it can be split into items`);
      break;
    }
    const item = bytes.subarray(pos, end);
    let value: any;
    try {
      value = cbor.decode(item);
    } catch {
      undecodable.push(index);
    }
    offsets.push(pos);
    if (index === 0) {
      if (value?.format !== LOG_FORMAT || typeof value.formatVersion !== "number") {
        changed("it does not start with a modtrace header: not a modtrace log, or its start was changed");
      } else {
        c.header = value;
        if (!value.sealing || typeof value.sealing.keyId !== "string") {
          c.verdict = "unsealed";
          c.problems.push("no seals: written by a modtrace without sealing, or not by a capture (read -o cbor and findings -o cbor write unsealed logs)");
          c.items = 1;
          return c;
        }
        if (keys && keys.id !== value.sealing.keyId) {
          flags.wrongKey = true;
          c.problems.push(`the key given is not this log's: its fingerprint is ${keys.id}, the header's ${value.sealing.keyId} (a wrong key, or the log was rewritten under another key); the MACs were not checked`);
        }
      }
    } else if (trailerAt >= 0) changed(`item ${index} at offset ${pos} comes after the trailer: appended`);
    if (value?.format === LOG_FORMAT && value.trailer === true && index > 0) {
      if (trailerAt < 0) trailerAt = index;
      c.trailer ??= value;
      if (typeof value.seal !== "object" || value.seal === null) changed(`the trailer (item ${index}, offset ${pos}) carries no seal: replaced`);
    }
    if (index > 0 && value?.format === LOG_FORMAT && (value.trailer === true || isSealItem(value)) && typeof value.seal === "object") checkSeal(value.seal, item, value.health);
    hash.update(item);
    index++;
    pos = end;
  }
  c.items = index;
  if (trailerAt >= 0) c.finalChain = hash.digest("hex");
  else if (c.header) {
    flags.cut = true;
    const good = c.lastGoodSeal;
    const vouched = good
      ? `the last seal whose chain holds (${sealName(good)}) vouches for items 0..${good.index - 1}${healthText(good.health)}${good.index + 1 <= index - 1 ? `; items ${range(good.index + 1, index - 1)} after it are not vouched for` : ""}`
      : "no seal vouches for anything in it";
    c.problems.push(`cut after item ${index - 1}${index ? ` (offset ${offsets[index - 1]})` : ""}: no trailer; ${vouched}`);
  }
  c.verdict = flags.forged ? "forged" : flags.changed ? "changed" : flags.wrongKey ? "wrong-key" : flags.cut ? "cut" : keys ? "intact" : "unproven";
  if (c.verdict === "unproven") c.notes.push("without the key a rewrite by root, which can recompute the chain, cannot be ruled out: give --key or --key-file");
  return c;
}

/** Files of one capture (same key fingerprint and start) in part order, each following the one before. */
export function checkSets(checks: FileCheck[]): SetCheck[] {
  const groups = new Map<string, FileCheck[]>();
  for (const c of checks) {
    if (!c.header?.sealing) continue;
    const key = `${c.header.sealing.keyId}/${c.header.start}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const sets: SetCheck[] = [];
  for (const files of groups.values()) {
    const partOf = (c: FileCheck) => Number(c.header.part);
    files.sort((a, b) => partOf(a) - partOf(b));
    const h = files[0].header;
    const s: SetCheck = { capture: `${h.host} from ${isoTime(BigInt(h.start))}`, files: files.map((f) => f.file), problems: [], notes: [] };
    // Deleted by --rotate-count, as the sealed headers record it.
    const deleted = new Set<number>();
    for (const f of files) for (const [a, b] of Array.isArray(f.header.sealing.rotatedAway) ? f.header.sealing.rotatedAway : []) for (let p = Number(a); p <= Number(b) && p - a < 1e6; p++) deleted.add(p);
    const missing = (from: number, to: number, where: string, firstName?: string) => {
      const gone = [];
      for (let p = from; p <= to; p++) if (!deleted.has(p)) gone.push(p);
      if (gone.length) s.problems.push(`file${gone.length > 1 ? "s" : ""} of part ${gone.join(", ")} missing ${where}${firstName && gone[0] === from ? ` (part ${from} was ${firstName})` : ""}: deleted, or not given`);
      if (gone.length < to - from + 1) s.notes.push(`part ${range(from, to)}${gone.length ? " in part" : ""} deleted by --rotate-count, as the set's headers record`);
    };
    if (partOf(files[0]) > 1) missing(1, partOf(files[0]) - 1, `before ${basename(files[0].file)}`);
    for (let i = 1; i < files.length; i++) {
      const a = files[i - 1];
      const b = files[i];
      const [pa, pb] = [partOf(a), partOf(b)];
      if (pa === pb) {
        s.problems.push(`${basename(a.file)} and ${basename(b.file)} both say they are part ${pa}: one is a copy or a forgery`);
        continue;
      }
      if (pb > pa + 1) {
        missing(pa + 1, pb - 1, `between ${basename(a.file)} and ${basename(b.file)}`, a.trailer?.next);
        continue;
      }
      const previous = b.header.sealing.previous;
      if (!previous) s.problems.push(`${basename(b.file)} (part ${pb}) names no file before it`);
      else if (previous.chain !== a.finalChain)
        s.problems.push(`${basename(b.file)} (part ${pb}) follows ${previous.file} ending in chain ${String(previous.chain).slice(0, 16)}…, but ${basename(a.file)} ${a.finalChain ? `ends in ${a.finalChain.slice(0, 16)}…` : "has no trailer"}: one of them was replaced or changed`);
      else if (previous.file !== basename(a.file)) s.notes.push(`${basename(a.file)} was written as ${previous.file}: renamed`);
    }
    const last = files.at(-1)!;
    if (last.trailer?.rotated === true) s.problems.push(`the set goes on in ${last.trailer.next} (part ${partOf(last) + 1}), which is not given: deleted, or left out`);
    sets.push(s);
  }
  return sets;
}
