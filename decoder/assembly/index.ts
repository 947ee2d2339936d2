// The decoder's WebAssembly interface. The loader drains ring-buffer records
// straight into the input buffer here; decode() turns a batch into the bytes
// of one output format in the output buffer. No JS object per event.
import * as L from "./generated/layout";
import * as out from "./output";
import * as s from "./structured";
import { writeEvent } from "./structured-event";
import { writeHeader, writeLine } from "./text";

export const FORMAT_TEXT: u32 = 0;
export const FORMAT_JSON: u32 = 1;
export const FORMAT_CBOR: u32 = 2;

export const ERR_BAD_LENGTH: i32 = -1;
export const ERR_BAD_RECORD: i32 = -2;
export const ERR_BAD_FORMAT: i32 = -3;

// Worst case one record can take in any format: every string byte escaped
// (6 bytes in JSON) and repeated as hex, plus the fixed fields.
const MAX_OUTPUT_PER_RECORD: usize = L.SLOT_COUNT * L.STR_LEN * 8 + L.COMM_LEN * 8 + 2048;

let input: usize = 0;
let inputCapacity: u32 = 0;
// Where each record's output ends, so a caller can split a batch between
// items (log rotation) without parsing the output.
let ends: usize = 0;
let clockOffset: i64 = 0;
const counts = new StaticArray<u32>(L.EVENT_COUNT);

export function inputPtr(capacity: u32): usize {
  if (capacity > inputCapacity) {
    input = heap.alloc(capacity);
    ends = heap.alloc((capacity / L.REC_SIZE + 1) << 2);
    inputCapacity = capacity;
  }
  return input;
}

export function outputPtr(): usize {
  return out.outputBase();
}

export function endsPtr(): usize {
  return ends;
}

export function setClock(hi: u32, lo: u32): void {
  clockOffset = <i64>((<u64>hi << 32) | <u64>lo);
}

function recordError(rec: usize): bool {
  return load<u32>(rec + L.REC_OFF_SIZE) != L.REC_SIZE || load<u16>(rec + L.REC_OFF_VERSION) != L.LAYOUT_VERSION;
}

export function decode(len: u32, format: u32): i32 {
  if (len % L.REC_SIZE != 0 || len > inputCapacity) return ERR_BAD_LENGTH;
  if (format > FORMAT_CBOR) return ERR_BAD_FORMAT;
  out.reset();
  for (let rec = input; rec < input + len; rec += L.REC_SIZE) {
    if (recordError(rec)) return ERR_BAD_RECORD;
    out.reserve(MAX_OUTPUT_PER_RECORD);
    if (format == FORMAT_TEXT) writeLine(rec, clockOffset);
    else {
      s.begin(format);
      writeEvent(rec, clockOffset);
      if (format == FORMAT_JSON) out.byte(0x0a);
    }
    store<u32>(ends + (((rec - input) / L.REC_SIZE) << 2), <u32>out.length);
  }
  return <i32>out.length;
}

export function tally(len: u32): void {
  for (let rec = input; rec < input + len; rec += L.REC_SIZE) {
    const event = load<u8>(rec + L.REC_OFF_EVENT);
    if (event < <u32>L.EVENT_COUNT) counts[event]++;
  }
}

export function count(event: u32): u32 {
  return event < <u32>L.EVENT_COUNT ? counts[event] : 0;
}

export function textHeader(): i32 {
  out.reset();
  out.reserve(256);
  writeHeader();
  return <i32>out.length;
}
