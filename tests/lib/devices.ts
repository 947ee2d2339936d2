// glibc's user-space dev_t (what stat reports) to the kernel's internal
// encoding (major << 20 | minor) that BPF reads from a super_block.
export function kernelDev(userDev: bigint): { value: number; decoded: string } {
  const major = Number(((userDev >> 8n) & 0xfffn) | ((userDev >> 32n) & ~0xfffn));
  const minor = Number((userDev & 0xffn) | ((userDev >> 12n) & ~0xffn));
  return { value: major * 2 ** 20 + minor, decoded: `${major}:${minor}` };
}
