// Which host a set of logs came from (log/origin.ts): read from each
// log's header alone, however large that header grew (modulesAtStart on a
// host with many modules passes the first read's 64 KiB).
import { expect, test } from "bun:test";
import { decode, Encoder } from "cbor-x";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sharedOrigin } from "../../log/origin";
import { itemEnd } from "../../log/item-bounds";

const FIXTURE = readFileSync(join(import.meta.dir, "../fixtures/kernel-6.18.cbor"));
const headerEnd = itemEnd(FIXTURE, 0);
const header = decode(FIXTURE.subarray(0, headerEnd));

/** The fixture log with its header changed by `edit`, re-encoded by cbor-x. */
function log(dir: string, name: string, edit: (h: any) => any): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([new Encoder({ useRecords: false }).encode(edit({ ...header })), FIXTURE.subarray(headerEnd)]));
  return path;
}

const modules = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `module_${i}_${"x".repeat(40)}`, size: 16384, address: null, taints: "", state: "Live" }));

test("two logs of one boot name its host, headers of 1 MiB and more included", () => {
  const dir = mkdtempSync(join(tmpdir(), "modtrace-origin-"));
  const small = log(dir, "small.cbor", (h) => h);
  const large = log(dir, "large.cbor", (h) => ({ ...h, modulesAtStart: modules(12_000) }));
  expect(readFileSync(large).length).toBeGreaterThan(1 << 20);
  expect(sharedOrigin([small, large])).toEqual({ host: header.host, kernel: header.kernel, bootTime: header.bootTime });
  expect(sharedOrigin([large])?.host).toBe(header.host);
});

test("another host, another boot, or a file with no header: no shared host", () => {
  const dir = mkdtempSync(join(tmpdir(), "modtrace-origin-"));
  const one = log(dir, "one.cbor", (h) => h);
  expect(sharedOrigin([one, log(dir, "other-host.cbor", (h) => ({ ...h, host: "elsewhere" }))])).toBeUndefined();
  expect(sharedOrigin([one, log(dir, "other-boot.cbor", (h) => ({ ...h, bootTime: BigInt(h.bootTime) + 60_000_000_000n }))])).toBeUndefined();
  const garbage = join(dir, "garbage.cbor");
  writeFileSync(garbage, "not a log");
  expect(sharedOrigin([one, garbage])).toBeUndefined();
});
