// The kernel's taint flags (include/linux/panic.h, TAINT_*), as bits of
// struct module.taints. Not in the UAPI headers, so kept here by hand; the
// bit numbers have been stable since they were introduced.
export const TAINT_BITS: StaticArray<u64> = [
  1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9,
  1 << 10, 1 << 11, 1 << 12, 1 << 13, 1 << 14, 1 << 15, 1 << 16, 1 << 17, 1 << 18,
];
export const TAINT_NAMES: StaticArray<string> = [
  "PROPRIETARY_MODULE", "FORCED_MODULE", "CPU_OUT_OF_SPEC", "FORCED_RMMOD", "MACHINE_CHECK",
  "BAD_PAGE", "USER", "DIE", "OVERRIDDEN_ACPI_TABLE", "WARN", "CRAP", "FIRMWARE_WORKAROUND",
  "OOT_MODULE", "UNSIGNED_MODULE", "SOFTLOCKUP", "LIVEPATCH", "AUX", "RANDSTRUCT", "TEST",
];
