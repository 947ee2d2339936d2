// Where each module's file lies, and what that file holds: the index depmod
// wrote for this kernel (modules.dep, the one modprobe reads), and the file's
// hashes and srcversion. The srcversion (a hash of the module's sources,
// which the kernel shows in /sys/module) ties the code in memory to a file:
// a module built from other sources than its file's is not that file.
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";

const COMPRESSED = /\.(xz|zst|gz)$/;

/** A module's name as the kernel spells it, from its file name: dashes are underscores. */
export const moduleNameOf = (file: string) => file.replace(/^.*\//, "").replace(COMPRESSED, "").replace(/\.ko$/, "").replace(/-/g, "_");

/** name -> absolute path, from a modules.dep text of modulesDir. */
export function parseModulesDep(text: string, modulesDir: string): Map<string, string> {
  const byName = new Map<string, string>();
  for (const line of text.split("\n")) {
    const file = line.slice(0, line.indexOf(":"));
    if (!file) continue;
    byName.set(moduleNameOf(file), file.startsWith("/") ? file : join(modulesDir, file));
  }
  return byName;
}

export function modulesDir(kernelRelease = release()): string {
  return `/lib/modules/${kernelRelease}`;
}

/** This kernel's module index, or why there is none. */
export function moduleIndex(dir = modulesDir()): Map<string, string> | string {
  try {
    return parseModulesDep(readFileSync(join(dir, "modules.dep"), "utf8"), dir);
  } catch (e: any) {
    return `cannot read ${join(dir, "modules.dep")} (${e.code ?? e.message}): no file can be tied to a module`;
  }
}

export interface FileFacts {
  path: string;
  sha256: string;
  md5: string;
  /** From the file's .modinfo strings; undefined when compressed (not read) or absent. */
  srcversion?: string;
  compressed: boolean;
}

const SRCVERSION = Buffer.from("\0srcversion=");

/** The srcversion= string of an uncompressed module's .modinfo section. */
export function fileSrcversion(bytes: Uint8Array): string | undefined {
  const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(SRCVERSION);
  if (at < 0) return undefined;
  const start = at + SRCVERSION.length;
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.subarray(start, end)).toString("latin1");
}

export function fileFacts(path: string): FileFacts | string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e: any) {
    return `cannot read ${path} (${e.code ?? e.message})`;
  }
  const compressed = COMPRESSED.test(path);
  return {
    path,
    sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("hex"),
    md5: new Bun.CryptoHasher("md5").update(bytes).digest("hex"),
    compressed,
    ...(!compressed && { srcversion: fileSrcversion(bytes) }),
  };
}
