// A load event's image (init_module, finit_module, module_load; the kernel
// of kexec_file_load): the sha256 and size of the exact bytes the kernel was
// handed, or why there is no hash. Which events have one is the catalogue's.
import * as L from "./generated/layout";
import * as out from "./output";
import * as s from "./structured";
import * as P from "./pieces";
import { SHA256, SHA256_ERROR, SIZE } from "./keys";
import * as T from "./image-texts";
import * as C from "./generated/catalogue";
import { eventIndex } from "./events";
import { u64At, u8At } from "./record";

const NO_HOOK = P.text(T.NO_HOOK);
const LOST = P.text(T.LOST);
const UNREAD = P.text(T.UNREAD);
const NOT_READ = P.text(T.NOT_READ);

/** The record's enum mt_image_state; IMAGE_NONE for events without an image. */
export function imageState(rec: usize, event: u32): u32 {
  if (!C.EVENT_HAS_IMAGE[eventIndex(event)]) return L.IMAGE_NONE;
  return u8At(rec, L.REC_OFF_IMAGE_STATE);
}

function ringFullLength(rec: usize): i32 {
  return T.RING_FULL_BEFORE.length + out.decimalWidth(u64At(rec, L.REC_OFF_IMAGE_SENT)) +
    T.RING_FULL_BETWEEN.length + out.decimalWidth(u64At(rec, L.REC_OFF_IMAGE_SIZE)) + T.RING_FULL_AFTER.length;
}

function ringFullText(rec: usize): void {
  out.ascii(T.RING_FULL_BEFORE);
  out.decimal(u64At(rec, L.REC_OFF_IMAGE_SENT));
  out.ascii(T.RING_FULL_BETWEEN);
  out.decimal(u64At(rec, L.REC_OFF_IMAGE_SIZE));
  out.ascii(T.RING_FULL_AFTER);
}

/** sha256 (bytes in CBOR, lowercase hex in JSON) and size; or size, when
 * known, and sha256Error. A record still marked SENT was never matched with
 * its chunks (user space did not hash it): no hash, like LOST. */
export function writeImage(rec: usize, state: u32): void {
  if (state == L.IMAGE_NONE) return;
  if (state == L.IMAGE_HASHED) {
    s.key(SHA256);
    s.rawBytes(rec + L.REC_OFF_SHA256, L.REC_LEN_SHA256);
  }
  if (state != L.IMAGE_NO_HOOK && state != L.IMAGE_ON_DISK && state != L.IMAGE_UNREAD) {
    s.key(SIZE);
    s.uint(u64At(rec, L.REC_OFF_IMAGE_SIZE));
  }
  if (state == L.IMAGE_HASHED) return;
  s.key(SHA256_ERROR);
  if (state == L.IMAGE_NO_HOOK) s.textPiece(NO_HOOK);
  else if (state == L.IMAGE_RING_FULL) {
    s.beginText(ringFullLength(rec));
    ringFullText(rec);
    s.endText();
  } else if (state == L.IMAGE_UNREAD) s.textPiece(UNREAD);
  else if (state == L.IMAGE_ON_DISK) s.textPiece(NOT_READ);
  else s.textPiece(LOST);
}

/** The same for a terminal, after the arguments: ", sha256: HEX, size: N". */
export function writeImageText(rec: usize, state: u32): void {
  if (state == L.IMAGE_NONE) return;
  out.ascii(", sha256: ");
  if (state == L.IMAGE_HASHED) out.hexBytes(rec + L.REC_OFF_SHA256, L.REC_LEN_SHA256);
  else {
    // Short forms: the structured formats give the whole sentence.
    if (state == L.IMAGE_NO_HOOK) out.ascii("<no image hook>");
    else if (state == L.IMAGE_RING_FULL) {
      out.ascii("<image ring full after ");
      out.decimal(u64At(rec, L.REC_OFF_IMAGE_SENT));
      out.ascii(" bytes>");
    } else if (state == L.IMAGE_UNREAD) out.ascii("<file unreadable>");
    else if (state == L.IMAGE_ON_DISK) out.ascii("<file not read>");
    else out.ascii("<chunks lost>");
  }
  if (state != L.IMAGE_NO_HOOK && state != L.IMAGE_ON_DISK && state != L.IMAGE_UNREAD) {
    out.ascii(", size: ");
    out.decimal(u64At(rec, L.REC_OFF_IMAGE_SIZE));
  }
}
