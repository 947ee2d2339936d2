// --save-modules' directory as an attacker with a foothold would find it:
// files planted under the names modtrace will use, a link on the way, a
// directory others can write. This kernel loads no module, so the store is
// driven directly, with the bytes and digest an image would have.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageStore, ImageStoreError } from "../../images/store";

const image = Buffer.from("\x7fELF an image the kernel was handed");
const digest = createHash("sha256").update(image).digest();
const name = `${digest.toString("hex")}.ko`;

function store(dir: string) {
  const warnings: string[] = [];
  return { s: ImageStore.open(dir, 1 << 20, (l) => warnings.push(l)), warnings };
}

function save(s: ImageStore) {
  const saving = s.begin()!;
  expect(saving).toBeDefined();
  saving.write(image);
  saving.finish(digest);
}

const scratch = () => mkdtempSync(join(tmpdir(), "modtrace-store-"));

describe("module image store", () => {
  test("a planted file of the same size under the image's name does not stand in for it", () => {
    const dir = scratch();
    writeFileSync(join(dir, name), Buffer.alloc(image.length, 0x41));
    const { s, warnings } = store(dir);
    save(s);
    expect(readFileSync(join(dir, name)).equals(image)).toBe(true);
    expect(s.counts).toEqual({ imagesSaved: 1, imagesAlreadySaved: 0, imagesNotSaved: 0 });
    expect(warnings.join("\n")).toContain("not the image");
  });

  test("the same image saved before is recognised by its hash and kept", () => {
    const dir = scratch();
    writeFileSync(join(dir, name), image);
    const { s } = store(dir);
    save(s);
    expect(s.counts).toEqual({ imagesSaved: 0, imagesAlreadySaved: 1, imagesNotSaved: 0 });
    expect(readdirSync(dir)).toEqual([name]);
  });

  test("temporary names cannot be planted in advance", () => {
    const dir = scratch();
    // The names the store used to take in turn: pid and a counter.
    for (let i = 1; i <= 3; i++) writeFileSync(join(dir, `.partial-${process.pid}-${i}`), "planted");
    const { s } = store(dir);
    save(s);
    expect(s.counts.imagesSaved).toBe(1);
    expect(readFileSync(join(dir, name)).equals(image)).toBe(true);
  });

  test("a symbolic link anywhere on the way to DIR is refused", () => {
    const dir = scratch();
    mkdirSync(join(dir, "real"), { mode: 0o700 });
    symlinkSync(join(dir, "real"), join(dir, "link"));
    expect(() => store(join(dir, "link", "ko"))).toThrow(ImageStoreError);
    expect(() => store(join(dir, "link", "ko"))).toThrow(`${join(dir, "link")} is a symbolic link`);
    expect(readdirSync(join(dir, "real"))).toEqual([]); // nothing made through it
  });

  test("a directory others can write into is refused", () => {
    const dir = scratch();
    chmodSync(dir, 0o777);
    expect(() => store(dir)).toThrow("writable by everyone");
    chmodSync(dir, 0o770);
    expect(() => store(dir)).toThrow("writable by its group");
  });
});
