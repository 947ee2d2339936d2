// One event as an aligned line for a terminal, like Tracee's table.
import * as L from "./generated/layout";
import * as out from "./output";
import * as args from "./args";
import { writeContextText } from "./context";
import { errnoPiece, eventName } from "./events";
import * as P from "./pieces";
import { TEXT } from "./formats";
import { commLen, u32At, u64At, u8At } from "./record";
import * as utf8 from "./utf8";
import { imageState, writeImageText } from "./image";

// Column widths, the gap included; a longer value still gets one space.
const W_TIME = 17;
const W_UID = 7;
const W_COMM = 17;
const W_PID = 8;
const W_TID = 8;
const W_RET = 14;
const W_EVENT = 15;

function pad(from: usize, width: i32): void {
  const used = <i32>(out.length - from);
  out.spaces(used < width ? width - used : 1);
}

function cell(title: string, width: i32): void {
  const at = out.length;
  out.ascii(title);
  pad(at, width);
}

export function writeHeader(): void {
  cell("TIME(UTC)", W_TIME);
  cell("UID", W_UID);
  cell("COMM", W_COMM);
  cell("PID", W_PID);
  cell("TID", W_TID);
  cell("RET", W_RET);
  cell("EVENT", W_EVENT);
  out.ascii("ARGS\n");
}

function twoDigits(v: u64): void {
  out.byte(<u32>(v / 10) + 0x30);
  out.byte(<u32>(v % 10) + 0x30);
}

function time(ns: u64): void {
  const seconds = ns / 1000000000;
  const day = seconds % 86400;
  twoDigits(day / 3600);
  out.byte(0x3a);
  twoDigits((day / 60) % 60);
  out.byte(0x3a);
  twoDigits(day % 60);
  out.byte(0x2e);
  const micros = (ns / 1000) % 1000000;
  for (let d: u64 = 100000; d > 0; d /= 10) out.byte(<u32>((micros / d) % 10) + 0x30);
}

/** The way in and the file's standing, where they are not the ordinary ones. */
function writeFlagsText(flags: u32): void {
  if (flags & L.FLAG_COMPAT) out.ascii(" entry=ia32");
  if (flags & L.FLAG_NO_LOAD_CALL) out.ascii(" entry=none");
  if ((flags & (L.FLAG_FILE_UNLINKED | L.FLAG_FILE_OTHER_MNT | L.FLAG_FILE_SWAPPED)) == 0) return;
  out.ascii(" file=");
  let sep = false;
  if (flags & L.FLAG_FILE_UNLINKED) {
    out.ascii("unlinked");
    sep = true;
  }
  if (flags & L.FLAG_FILE_OTHER_MNT) {
    if (sep) out.byte(0x7c);
    out.ascii("other-mount");
    sep = true;
  }
  if (flags & L.FLAG_FILE_SWAPPED) {
    if (sep) out.byte(0x7c);
    out.ascii("swapped");
  }
}

export function writeLine(rec: usize, clockOffset: i64): void {
  const event = u8At(rec, L.REC_OFF_EVENT);
  const ret = <i64>u64At(rec, L.REC_OFF_RET);
  let at = out.length;
  time(<u64>(<i64>u64At(rec, L.REC_OFF_BOOT_NS) + clockOffset));
  pad(at, W_TIME);
  at = out.length;
  out.decimal(u32At(rec, L.REC_OFF_UID));
  pad(at, W_UID);
  at = out.length;
  utf8.writeEscaped(rec + L.REC_OFF_COMM, commLen(rec));
  pad(at, W_COMM);
  at = out.length;
  out.decimal(u32At(rec, L.REC_OFF_HOST_PID));
  pad(at, W_PID);
  at = out.length;
  out.decimal(u32At(rec, L.REC_OFF_HOST_TID));
  pad(at, W_TID);
  at = out.length;
  const errno = ret < 0 ? errnoPiece(<u64>-ret) : 0;
  if (errno) {
    out.byte(0x2d);
    out.shortRun(P.textBytes(errno), P.textLength(errno));
  } else out.signedDecimal(ret);
  pad(at, W_RET);
  at = out.length;
  out.ascii(eventName(event));
  pad(at, W_EVENT);
  args.begin(TEXT);
  args.writeArgs(rec, event);
  writeFlagsText(u32At(rec, L.REC_OFF_FLAGS));
  writeImageText(rec, imageState(rec, event));
  writeContextText(rec);
  out.byte(0x0a);
}
