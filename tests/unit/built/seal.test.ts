// Sealed logs, written through the real writer (CborLog, as a capture writes
// them) with real events (a fixture captured from a kernel), then damaged the
// ways an attacker or an accident would, and checked by `modtrace verify`
// (the compiled binary, for its words and exit status) and its checkFile.
// Expected item numbers and offsets come from the layout the test wrote and
// from searching the bytes, never from verify.
import { describe, expect, test } from "bun:test";
import { Encoder } from "cbor-x/encode";
import { Decoder } from "cbor-x/decode";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CborLog } from "../../../log/cbor-log";
import { itemEnd } from "../../../log/item-bounds";
import { readLogBytes, type Problem } from "../../../log/reader";
import { SealKey } from "../../../log/seal";
import { checkFile } from "../../../log/seal-check";
import type { HeaderFields } from "../../../log/log-items";
import { runModtrace } from "../../lib/modtrace";

const cbor = new Decoder({ mapsAsObjects: true, useRecords: false });
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

/** The fixture's items as bytes, split by decoding one at a time from the front. */
function splitItems(bytes: Uint8Array): Uint8Array[] {
  const items: Uint8Array[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const end = itemEnd(bytes, pos);
    items.push(bytes.subarray(pos, end));
    pos = end;
  }
  return items;
}

const FIXTURE = splitItems(readFileSync("tests/fixtures/kernel-6.18.cbor"));
const EVENTS = FIXTURE.filter((i) => typeof cbor.decode(i).eventName === "string");
const BATCHES = 4;
const PER_BATCH = EVENTS.length; // 12

const HEADER: HeaderFields = {
  startNs: 1_800_000_000_000_000_000n,
  bootTimeNs: 1_700_000_000_000_000_000n,
  events: ["init_module", "finit_module", "delete_module"],
  hooks: {},
  unavailable: {},
  fellBack: {},
  imageHook: { why: "a test" },
  filters: { pids: [], uids: [], comms: [] },
  ancestors: 0,
  argv: ["modtrace", "a test"],
};

function totals() {
  return { endNs: 1_800_000_100_000_000_000n, counts: {}, written: 0, lostRingbuf: 0, lostPriority: 0, lostInflight: 0, filtered: 0 };
}

function batch(evidence = false) {
  const bytes = Buffer.concat(EVENTS);
  const ends = new Uint32Array(EVENTS.length);
  let at = 0;
  EVENTS.forEach((e, i) => (ends[i] = at += e.length));
  return { bytes, ends, evidence: new Uint8Array(EVENTS.length).fill(evidence ? 1 : 0) };
}

/** A log of BATCHES batches of the fixture's events with a seal after each
 * but the last, and the sealed trailer: items 0 header; batch b's events at
 * 1 + 13b … 12 + 13b; seal b at 13 + 13b; the trailer (seal 3) at 52. */
function sealedLog(dir: string, k0 = randomBytes(32)) {
  const file = join(dir, "log.cbor");
  const key = SealKey.from(k0, 1);
  const log = new CborLog(file, HEADER, {}, false, key);
  for (let b = 0; b < BATCHES; b++) {
    const { bytes, ends } = batch();
    log.writeEvents(bytes, ends);
    if (b < BATCHES - 1) {
      expect(log.seal(BigInt(Date.now()) * 1_000_000n)).toBe(true);
      key.evolve();
    }
  }
  log.finish(totals());
  return { file, k0: Buffer.from(k0).toString("hex") };
}

const TRAILER_INDEX = 1 + BATCHES * (PER_BATCH + 1) - 1; // 52
const sealIndex = (s: number) => (s + 1) * (PER_BATCH + 1); // 13, 26, 39

/** Where the n-th copy (0-based, in file order) of fixture event e starts. */
function offsetOf(bytes: Buffer, e: number, n: number): number {
  let at = -1;
  for (let k = 0; k <= n; k++) at = bytes.indexOf(EVENTS[e], at + 1);
  expect(at).toBeGreaterThan(0);
  return at;
}

const scratch = () => mkdtempSync(join(tmpdir(), "modtrace-seal-"));
const verify = (...args: string[]) => runModtrace(["verify", ...args]);

describe("sealed logs", () => {
  test("the writer's seals: the chain over the bytes before each, its count, and an HMAC under the evolved key (recomputed here from the format's definition)", () => {
    const dir = scratch();
    const { file, k0 } = sealedLog(dir);
    const bytes = readFileSync(file);
    const items = splitItems(bytes);
    expect(items.length).toBe(TRAILER_INDEX + 1);
    const header = cbor.decode(items[0]);
    expect(header.sealing.keyId).toBe(createHash("sha256").update("modtrace seal key id\0").update(Buffer.from(k0, "hex")).digest().subarray(0, 8).toString("hex"));
    let key = Buffer.from(k0, "hex");
    let epoch = 0;
    let offset = 0;
    const sealAt = [sealIndex(0), sealIndex(1), sealIndex(2), TRAILER_INDEX];
    items.forEach((item, i) => {
      const value = cbor.decode(item);
      expect(value.seal !== undefined).toBe(sealAt.includes(i));
      if (value.seal) {
        const s = value.seal;
        expect(s.seq).toBe(sealAt.indexOf(i));
        expect(s.items).toBe(i);
        expect(s.chain).toBe(createHash("sha256").update(bytes.subarray(0, offset)).digest("hex"));
        for (; epoch < s.epoch; epoch++) key = createHash("sha256").update("modtrace seal key\0").update(key).digest();
        const zeroed = Buffer.from(item);
        zeroed.fill(0x30, zeroed.length - 64);
        expect(s.mac).toBe(createHmac("sha256", key).update("modtrace seal mac v1\0").update(zeroed).digest("hex"));
      }
      offset += item.length;
    });
    expect(epoch).toBe(BATCHES - 1);
    rmSync(dir, { recursive: true });
  });

  test("an evolved key's old bytes are overwritten", () => {
    const key = SealKey.from(randomBytes(32));
    const old: Buffer = (key as any).key;
    key.evolve();
    expect(old.every((b) => b === 0)).toBe(true);
    expect((key as any).key.every((b: number) => b === 0)).toBe(false);
  });

  test("intact: exit 0 with the key, and without it the chain holds but is called unproven", () => {
    const dir = scratch();
    const { file, k0 } = sealedLog(dir);
    const withKey = verify("--key", k0, file);
    expect(withKey.stdout).toContain(`${file}: intact: ${TRAILER_INDEX + 1} items, 4 seals`);
    expect(withKey.exitCode).toBe(0);
    const noKey = verify(file);
    expect(noKey.stdout).toContain("chain intact, unproven");
    expect(noKey.stdout).toContain("cannot be ruled out");
    expect(noKey.exitCode).toBe(0);
    const json = JSON.parse(verify("--key", k0, "-o", "json", file).stdout);
    expect(json).toMatchObject({ intact: true, keyChecked: true, files: [{ verdict: "intact", seals: 4, items: TRAILER_INDEX + 1 }] });
    rmSync(dir, { recursive: true });
  });

  test("every reader passes the seals by: the same events, JSON and stats as an unsealed log of the same events, and no problem", () => {
    const dir = scratch();
    const { file } = sealedLog(dir);
    const plain = join(dir, "plain.cbor");
    const log = new CborLog(plain, HEADER, {}, false);
    for (let b = 0; b < BATCHES; b++) log.writeEvents(batch().bytes, batch().ends);
    log.finish(totals());
    const problems: Problem[] = [];
    const kinds = [...readLogBytes(readFileSync(file), file, problems)].map((i) => i.kind);
    expect(problems).toEqual([]);
    expect(kinds.filter((k) => k === "seal").length).toBe(BATCHES - 1);
    expect(kinds.filter((k) => k === "event").length).toBe(BATCHES * PER_BATCH);
    for (const args of [["-o", "json"], ["-o", "text"]]) {
      const sealed = runModtrace(["read", file, ...args]);
      const unsealed = runModtrace(["read", plain, ...args]);
      expect(sealed.exitCode).toBe(0);
      expect(sealed.stderr).toBe("");
      expect(sealed.stdout).toBe(unsealed.stdout);
      expect(sealed.stdout.trim().split("\n").length).toBe(BATCHES * PER_BATCH + (args[1] === "text" ? 1 : 0));
    }
    expect(runModtrace(["stats", "--json", file]).stdout).toBe(runModtrace(["stats", "--json", plain]).stdout);
    // read -o cbor writes a new log, which is not sealed, and says so to verify.
    const copy = join(dir, "copy.cbor");
    expect(runModtrace(["read", file, "-o", `cbor:${copy}`]).exitCode).toBe(0);
    const v = verify(copy);
    expect(v.stdout).toContain("no seals: written by a modtrace without sealing");
    expect(v.exitCode).toBe(1);
    rmSync(dir, { recursive: true });
  });

  test("one byte changed in an event between seal 1 and seal 2: those items named, exit 1", () => {
    const dir = scratch();
    const { file, k0 } = sealedLog(dir);
    const bytes = readFileSync(file);
    const at = offsetOf(bytes, 5, 2); // batch 2's event 5: item 27 + 5
    const comm = bytes.indexOf("mt-trigger", at);
    expect(comm).toBeGreaterThan(at);
    bytes[comm + 3] ^= 0x01; // still valid CBOR, still an event
    writeFileSync(file, bytes);
    const c = checkFile(file, bytes);
    expect(c.verdict).toBe("changed");
    const from = sealIndex(1);
    const to = sealIndex(2) - 1;
    // Seal 1's own offset: the lengths of the items before it (a flipped byte changes none).
    const fromOffset = splitItems(bytes).slice(0, from).reduce((n, i) => n + i.length, 0);
    expect(c.problems[0]).toContain(`items ${from}..${to} (bytes ${fromOffset}..`);
    expect(c.problems[0]).toContain("the chain in seal 2");
    expect(c.problems[0]).toContain("changed between seal 1");
    for (const args of [[file], ["--key", k0, file]]) {
      const r = verify(...args);
      expect(r.stdout).toContain("CHANGED");
      expect(r.stdout).toContain(`items ${from}..${to}`);
      expect(r.exitCode).toBe(1);
    }
    rmSync(dir, { recursive: true });
  });

  test("cut mid-item: cut, and the last seal says what it vouches for, exit 1", () => {
    const dir = scratch();
    const { file, k0 } = sealedLog(dir);
    const bytes = readFileSync(file);
    const at = offsetOf(bytes, 5, 3); // batch 3's event 5: item 40 + 5
    writeFileSync(file, bytes.subarray(0, at + 20));
    const r = verify("--key", k0, file);
    expect(r.stdout).toContain(`cut mid-item: the last 20 bytes, from offset ${at}`);
    expect(r.stdout).toContain(`cut after item ${sealIndex(2) + 5}`);
    expect(r.stdout).toContain(`(seal 2 (item ${sealIndex(2)}`);
    expect(r.stdout).toContain(`vouches for items 0..${sealIndex(2) - 1}`);
    expect(r.exitCode).toBe(1);
    // Cut cleanly before the trailer: still cut.
    const trailerAt = bytes.length - splitItems(bytes).at(-1)!.length;
    writeFileSync(file, bytes.subarray(0, trailerAt));
    const clean = verify(file);
    expect(clean.stdout).toContain(`cut after item ${TRAILER_INDEX - 1}`);
    expect(clean.exitCode).toBe(1);
    rmSync(dir, { recursive: true });
  });

  test("root deletes an event and recomputes every chain after it without the key: unproven without the key, forged with it", () => {
    const dir = scratch();
    const { file, k0 } = sealedLog(dir);
    const items = splitItems(readFileSync(file));
    const gone = sealIndex(1) + 1 + 5; // batch 2's event 5
    const kept = items.filter((_, i) => i !== gone);
    const out: Uint8Array[] = [];
    kept.forEach((item, i) => {
      const value = cbor.decode(item);
      if (value.seal) {
        // What root can do: the chain and count right, the mac left as it was.
        value.seal.chain = createHash("sha256").update(Buffer.concat(out)).digest("hex");
        value.seal.items = i;
        if (value.trailer) value.eventsInFile--;
        item = encoder.encode(value);
      }
      out.push(item);
    });
    writeFileSync(file, Buffer.concat(out));
    const noKey = verify(file);
    expect(noKey.stdout).toContain("chain intact, unproven");
    expect(noKey.exitCode).toBe(0);
    const withKey = verify("--key", k0, file);
    expect(withKey.stdout).toContain("FORGED");
    expect(withKey.stdout).toContain("the MAC of seal 2 ");
    expect(withKey.stdout).not.toContain("the MAC of seal 1 ");
    expect(withKey.exitCode).toBe(1);
    rmSync(dir, { recursive: true });
  });

  test("a seal removed, and an item appended after the trailer: named, exit 1", () => {
    const dir = scratch();
    const { file, k0 } = sealedLog(dir);
    const items = splitItems(readFileSync(file));
    writeFileSync(file, Buffer.concat([...items.filter((_, i) => i !== sealIndex(1)), items[1]]));
    const r = verify("--key", k0, file);
    expect(r.stdout).toContain("seal 1 missing before seal 2");
    expect(r.stdout).toContain(`item ${TRAILER_INDEX} at offset`); // the trailer moved up by one
    expect(r.stdout).toContain("after the trailer: appended");
    expect(r.exitCode).toBe(1);
    rmSync(dir, { recursive: true });
  });

  test("a wrong key: told from a forgery by the header's fingerprint, exit 1", () => {
    const dir = scratch();
    const { file } = sealedLog(dir);
    const r = verify("--key", randomBytes(32).toString("hex"), file);
    expect(r.stdout).toContain("WRONG KEY");
    expect(r.stdout).toContain("the key given is not this log's");
    expect(r.exitCode).toBe(1);
    rmSync(dir, { recursive: true });
  });

  test("usage and input errors exit 2; a log without seals exits 1", () => {
    expect(verify("--key", "abc", "tests/fixtures/kernel-6.18.cbor").exitCode).toBe(2);
    expect(verify("/nonexistent/log.cbor").exitCode).toBe(2);
    expect(verify("--key-file", "/nonexistent/key", "tests/fixtures/kernel-6.18.cbor").exitCode).toBe(2);
    const unsealed = verify("tests/fixtures/kernel-6.18.cbor");
    expect(unsealed.stdout).toContain("no seals: written by a modtrace without sealing");
    expect(unsealed.exitCode).toBe(1);
    const dir = scratch();
    writeFileSync(join(dir, "empty.cbor"), "");
    expect(verify(join(dir, "empty.cbor")).exitCode).toBe(1);
    rmSync(dir, { recursive: true });
  });
});

describe("sealed sets of rotated files", () => {
  /** A set rotated every ~3 KB: each batch of 12 events (some 5 KB) spans files. */
  function rotatedSet(dir: string, count?: number, evidenceBatch?: number) {
    const k0 = randomBytes(32);
    const key = SealKey.from(k0, 1);
    const log = new CborLog(join(dir, "logs") + "/", HEADER, { sizeBytes: 3000, count }, false, key);
    for (let b = 0; b < 6; b++) {
      const { bytes, ends, evidence } = batch(b === evidenceBatch);
      log.writeEvents(bytes, ends, evidence);
      if (log.seal(BigInt(Date.now()) * 1_000_000n)) key.evolve();
    }
    log.finish(totals());
    const files = readdirSync(join(dir, "logs")).sort().map((f) => join(dir, "logs", f));
    return { files, k0: k0.toString("hex") };
  }

  test("in any order: intact; each header names the file before it and its final chain", () => {
    const dir = scratch();
    const { files, k0 } = rotatedSet(dir);
    expect(files.length).toBeGreaterThan(4);
    for (let i = 1; i < files.length; i++) {
      const header = cbor.decode(splitItems(readFileSync(files[i]))[0]);
      expect(header.part).toBe(i + 1);
      expect(header.sealing.previous.chain).toBe(createHash("sha256").update(readFileSync(files[i - 1])).digest("hex"));
    }
    const r = verify("--key", k0, ...[...files].reverse());
    expect(r.stdout).toContain(`${files.length} files, each following the one before`);
    expect(r.exitCode).toBe(0);
    rmSync(dir, { recursive: true });
  });

  test("a file removed from the middle, or the last one: missing, exit 1", () => {
    const dir = scratch();
    const { files, k0 } = rotatedSet(dir);
    const without = files.filter((_, i) => i !== 2);
    const r = verify("--key", k0, ...without);
    expect(r.stdout).toContain(`file of part 3 missing between ${files[1].split("/").at(-1)} and ${files[3].split("/").at(-1)} (part 3 was ${files[2].split("/").at(-1)})`);
    expect(r.exitCode).toBe(1);
    const last = verify("--key", k0, ...files.slice(0, -1));
    expect(last.stdout).toContain(`the set goes on in ${files.at(-1)!.split("/").at(-1)}`);
    expect(last.exitCode).toBe(1);
    // A file swapped for another part's copy under its name: the chain link says so.
    writeFileSync(files[2], readFileSync(files[1]));
    const swapped = verify("--key", k0, ...files.filter((_, i) => i !== 1));
    expect(swapped.stdout).toContain("NOT WHOLE");
    expect(swapped.exitCode).toBe(1);
    rmSync(dir, { recursive: true });
  });

  test("--rotate-count: the parts it deleted are recorded in the next header, so their gaps are no failure", () => {
    const dir = scratch();
    const { files, k0 } = rotatedSet(dir, 2, 1);
    const parts = files.map((f) => cbor.decode(splitItems(readFileSync(f))[0]).part);
    // Batch 1's files hold evidence and stay: a gap between them and the newest two.
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.at(-1)! - parts[0] + 1).toBeGreaterThan(parts.length);
    const r = verify("--key", k0, ...files);
    expect(r.stdout).toContain("deleted by --rotate-count");
    expect(r.exitCode).toBe(0);
    rmSync(dir, { recursive: true });
  });
});
