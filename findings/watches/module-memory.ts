// The third view of loaded modules: their memory, as the kernel allocated
// it. A rootkit unlinks itself from the module list and the module kset
// (hidden-module.ts compares those two), but its code must stay where the
// module loader put it, and /proc/vmallocinfo lists every vmalloc area with
// the function that asked for it: a module's core was allocated by
// move_module (shown as load_module, which it is inlined into on Debian's
// 6.1; from 6.4 module_memory_alloc), while BPF programs, trampolines,
// ftrace trampolines and kprobe slots in the same address space name their
// own allocators (bpf_prog_pack_alloc, arch_ftrace_update_trampoline, …). An area
// of the module loader that no module in either view accounts for is the
// memory of a module hidden from both.
//
// Accounting without addresses: for an unprivileged-looking read the kernel
// hashes vmallocinfo's addresses (%pK with kptr_restrict 0, Debian's
// default), so areas are matched to modules by size. Up to 6.3 a live
// module's core is one area of its core size (page-aligned, plus a guard
// page); its init area is freed shortly after init, so a module that is not
// Live yet (or any more) makes the view wait. From 6.4 a module is several
// areas of sizes no view gives: there the view says it cannot run.
//
// What it cannot see: a rootkit that also unlinks its area from the vmalloc
// tree (vfree would then fail on it: it can never be unloaded) or copies
// its code into memory of another kind; and a module whose core has exactly
// the size of another's that a listed module's area went missing for (no
// real kernel frees a listed module's core).
import { readFileSync } from "node:fs";

export interface ModuleArea {
  /** Bytes, the guard page included, as vmallocinfo gives them. */
  size: number;
  /** Bytes of the pages in it (pages=N): its allocation, without the guard. */
  pageBytes?: number;
  /** Its start, where the kernel shows real addresses; undefined when hashed. */
  start?: bigint;
  caller: string;
}

const PAGE = 4096;
// The allocating function of a module's own memory; the rest of the module
// address space (bpf_prog_pack_alloc, bpf_jit_alloc_exec,
// arch_ftrace_update_trampoline, alloc_insn_page) is not a module's.
const MODULE_ALLOCATOR = /^(load_module|move_module|module_memory_alloc)\+/;
// x86-64's module mapping space: an address in it is a real one, not a hash.
const MODULE_AREA_START = 0xffffffffc0000000n;

/** The module loader's areas in a /proc/vmallocinfo text. */
export function parseModuleAreas(text: string): ModuleArea[] {
  const areas: ModuleArea[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3 || !MODULE_ALLOCATOR.test(f[2])) continue;
    const start = BigInt(f[0].split("-")[0]);
    const pages = /\bpages=(\d+)\b/.exec(line)?.[1];
    areas.push({ size: Number(f[1]), ...(pages ? { pageBytes: Number(pages) * PAGE } : {}), caller: f[2].replace(/\/0x[0-9a-f]+$/, ""), ...(start >= MODULE_AREA_START ? { start } : {}) });
  }
  return areas;
}

const pageAligned = (n: number) => Math.ceil(n / PAGE) * PAGE;

/** The areas no module of `coreSizes` (one entry per module the views show)
 * accounts for: each module takes one area of its size, by its pages where
 * vmallocinfo counts them, else by its size with the guard page. */
export function unaccountedAreas(areas: ModuleArea[], coreSizes: number[]): ModuleArea[] {
  const left = [...areas];
  for (const size of coreSizes) {
    const want = pageAligned(size);
    const at = left.findIndex((a) => (a.pageBytes ?? a.size - PAGE) === want);
    if (at >= 0) left.splice(at, 1);
  }
  return left;
}

/** Why the memory view cannot run on this kernel, or undefined when it can. */
export function moduleMemoryUnavailable(path: string, kernelRelease: string): string | undefined {
  const [major, minor] = kernelRelease.split(".").map(Number);
  if (major > 6 || (major === 6 && minor >= 4))
    return `this kernel (${kernelRelease}) allocates each module section apart, in sizes no module view gives: module memory is not compared with the views`;
  try {
    readFileSync(path, "utf8");
  } catch (e: any) {
    return `${path} cannot be read (${e?.code ?? e}): module memory is not compared with the module views`;
  }
  return undefined;
}

export function readModuleAreas(path = "/proc/vmallocinfo"): ModuleArea[] {
  return parseModuleAreas(readFileSync(path, "utf8"));
}
