// The TAINT_* bits a module's load sets (include/linux/panic.h), with the
// letter /proc/modules shows for each (kernel/panic.c, taint_flags). The
// decoder names every taint bit for output (decoder/assembly/taints.ts);
// these are the ones the findings rules reason about.
export interface ModuleTaint {
  bit: number;
  letter: string;
  what: string;
}

export const MODULE_TAINTS: ModuleTaint[] = [
  { bit: 0, letter: "P", what: "proprietary" },
  { bit: 1, letter: "F", what: "forced" },
  { bit: 10, letter: "C", what: "staging" },
  { bit: 12, letter: "O", what: "out-of-tree" },
  { bit: 13, letter: "E", what: "unsigned" },
  { bit: 15, letter: "K", what: "live patch" },
  { bit: 18, letter: "N", what: "test" },
];

export const hasTaint = (taints: bigint, t: ModuleTaint) => ((taints >> BigInt(t.bit)) & 1n) === 1n;
