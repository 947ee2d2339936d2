// Reading kernel memory through /proc/kcore: an ELF core file whose PT_LOAD
// program headers say where each kernel virtual range sits in the file. The
// headers are read again on each open: the kernel rebuilds them when memory
// is hot-plugged.
import { closeSync, openSync, readSync } from "node:fs";

export interface Segment {
  vaddr: bigint;
  memsz: bigint;
  offset: bigint;
}

const PT_LOAD = 1;

/** The PT_LOAD segments of a little-endian ELF64 file, from its first bytes
 * (the ELF header and the program headers). */
export function parseSegments(head: Uint8Array): Segment[] {
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length < 64 || dv.getUint32(0) !== 0x7f454c46) throw new Error("not an ELF file");
  if (head[4] !== 2 || head[5] !== 1) throw new Error("not a little-endian 64-bit ELF file");
  const phoff = Number(dv.getBigUint64(0x20, true));
  const phentsize = dv.getUint16(0x36, true);
  const phnum = dv.getUint16(0x38, true);
  if (phoff + phnum * phentsize > head.length) throw new Error(`program headers end past the ${head.length} bytes read`);
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (dv.getUint32(at, true) !== PT_LOAD) continue;
    segments.push({ offset: dv.getBigUint64(at + 8, true), vaddr: dv.getBigUint64(at + 16, true), memsz: dv.getBigUint64(at + 40, true) });
  }
  return segments;
}

/** Where [addr, addr+len) is in the file, when one segment holds all of it. */
export function fileOffset(segments: Segment[], addr: bigint, len: number): bigint | undefined {
  const s = segments.find((s) => addr >= s.vaddr && addr + BigInt(len) <= s.vaddr + s.memsz);
  return s ? s.offset + (addr - s.vaddr) : undefined;
}

/** A kcore file held open: reads kernel memory at will (a list walk), until closed. */
export interface KernelMemory {
  read(addr: bigint, len: number): Uint8Array;
  close(): void;
}

export function openKernel(path: string): KernelMemory {
  const fd = openSync(path, "r");
  try {
    const head = new Uint8Array(64);
    readSync(fd, head, 0, 64, 0);
    const dv = new DataView(head.buffer);
    const need = Number(dv.getBigUint64(0x20, true)) + dv.getUint16(0x36, true) * dv.getUint16(0x38, true);
    const all = new Uint8Array(Math.max(64, need));
    readSync(fd, all, 0, all.length, 0);
    const segments = parseSegments(all);
    return {
      read(addr, len) {
        const off = fileOffset(segments, addr, len);
        if (off === undefined) throw new Error(`${path} maps no ${len} bytes at 0x${addr.toString(16)}`);
        const buf = new Uint8Array(len);
        // A bigint: with 5-level paging kcore offsets pass 2^53.
        const got = readSync(fd, buf, 0, len, off);
        if (got !== len) throw new Error(`${path}: read ${got} of ${len} bytes at 0x${addr.toString(16)}`);
        return buf;
      },
      close: () => closeSync(fd),
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Reads kernel memory ranges from one open of a kcore file. */
export function readKernel(path: string, ranges: Array<{ addr: bigint; len: number }>): Uint8Array[] {
  const kernel = openKernel(path);
  try {
    return ranges.map(({ addr, len }) => kernel.read(addr, len));
  } finally {
    kernel.close();
  }
}
