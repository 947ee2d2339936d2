// Why a load event has no sha256: the texts of its sha256Error, written by
// the decoder and read back by `modtrace read` when it rebuilds records from
// a log (record/records.ts). Plain string constants, so that AssemblyScript
// and TypeScript both import this one file.
export const NO_HOOK = "no hook saw the image (--no-hash, or none on this kernel: see modtrace doctor)";
export const LOST = "image chunks went missing on their way to modtrace";
// A program the kernel ran (call_usermodehelper), whose file user space hashes.
export const UNREAD = "the file the kernel ran was not read as it ran: gone or replaced since, over 64 MiB, or on a remote filesystem";
export const NOT_READ = "the file the kernel ran was not read (a raw log read back)";
// "image ring full after SENT of SIZE bytes (--image-buffer-size)"
export const RING_FULL_BEFORE = "image ring full after ";
export const RING_FULL_BETWEEN = " of ";
export const RING_FULL_AFTER = " bytes (--image-buffer-size)";
