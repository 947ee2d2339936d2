// The kernel's taint flags (include/linux/panic.h, TAINT_*; their letters in
// /proc/modules and /proc/sys/kernel/tainted from kernel/panic.c's
// taint_flags): not in the UAPI headers, so kept here, once. The bit numbers
// have been stable since each was introduced. The build generates the
// decoder's names from this (catalogue/gen-decoder-tables.ts); the findings
// reason about the bits a module's load sets (`module`).
// Plain data only, like the event catalogue.

export interface Taint {
  bit: number;
  name: string; // TAINT_ without the prefix: what the outputs call it
  letter: string;
  /** Set by loading a module of this kind: what a module carrying it is. */
  module?: string;
}

export const TAINTS: Taint[] = [
  { bit: 0, name: "PROPRIETARY_MODULE", letter: "P", module: "proprietary" },
  { bit: 1, name: "FORCED_MODULE", letter: "F", module: "forced" },
  { bit: 2, name: "CPU_OUT_OF_SPEC", letter: "S" },
  { bit: 3, name: "FORCED_RMMOD", letter: "R" },
  { bit: 4, name: "MACHINE_CHECK", letter: "M" },
  { bit: 5, name: "BAD_PAGE", letter: "B" },
  { bit: 6, name: "USER", letter: "U" },
  { bit: 7, name: "DIE", letter: "D" },
  { bit: 8, name: "OVERRIDDEN_ACPI_TABLE", letter: "A" },
  { bit: 9, name: "WARN", letter: "W" },
  { bit: 10, name: "CRAP", letter: "C", module: "staging" },
  { bit: 11, name: "FIRMWARE_WORKAROUND", letter: "I" },
  { bit: 12, name: "OOT_MODULE", letter: "O", module: "out-of-tree" },
  { bit: 13, name: "UNSIGNED_MODULE", letter: "E", module: "unsigned" },
  { bit: 14, name: "SOFTLOCKUP", letter: "L" },
  { bit: 15, name: "LIVEPATCH", letter: "K", module: "live patch" },
  { bit: 16, name: "AUX", letter: "X" },
  { bit: 17, name: "RANDSTRUCT", letter: "T" },
  { bit: 18, name: "TEST", letter: "N", module: "test" },
];
