// A kcore-like file for unit tests of the kernel watches: an ELF64 core
// header whose one PT_LOAD segment maps kernel virtual addresses to the
// file, as /proc/kcore does.

/** An ELF64 header and program headers: a PT_NOTE, then PT_LOAD at vaddr. */
export function elfHeader(vaddr: bigint, size: bigint, offset: bigint): Uint8Array {
  const b = new Uint8Array(64 + 2 * 56);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  dv.setUint16(0x10, 4, true); // ET_CORE
  dv.setBigUint64(0x20, 64n, true);
  dv.setUint16(0x36, 56, true);
  dv.setUint16(0x38, 2, true);
  dv.setUint32(64, 4, true); // PT_NOTE
  dv.setUint32(120, 1, true); // PT_LOAD
  dv.setBigUint64(120 + 8, offset, true);
  dv.setBigUint64(120 + 16, vaddr, true);
  dv.setBigUint64(120 + 32, size, true);
  dv.setBigUint64(120 + 40, size, true);
  return b;
}
