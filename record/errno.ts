// errno names, as the decoder writes returnError: one table generated from
// the kernel's headers (decoder/gen-kernel-names.ts), kernel-only errnos
// (ERESTARTSYS, EPROBE_DEFER...) included, which libc's do not name.
import { ERRNO_NAMES } from "../decoder/generated/errnos";

/** "EPERM" for -1, "E<n>" for an errno without a name, as the outputs say it. */
export function errnoName(ret: number): string {
  return ERRNO_NAMES[-ret] ?? `E${-ret}`;
}
