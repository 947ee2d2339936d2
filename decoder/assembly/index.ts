// The decoder's WebAssembly interface. The loader drains ring-buffer records
// straight into the input buffer here; decode() turns a batch into the bytes
// of one output format in the output buffer. No JS object per event.
import * as L from "./generated/layout";
import * as out from "./output";
import { CBOR, JSON, ROW, TEXT } from "./formats";
import * as row from "./row";
import * as s from "./structured";
import { writeEvent } from "./structured-event";
import { writeHeader, writeLine } from "./text";
import { ERR_BAD_LENGTH, ERR_BAD_RECORD, recordError } from "./record";
import { imageState } from "./image";
import { inContainer } from "./context";
import * as C from "./container";

export { ERR_BAD_LENGTH, ERR_BAD_RECORD };

export { TEXT as FORMAT_TEXT, JSON as FORMAT_JSON, CBOR as FORMAT_CBOR, ROW as FORMAT_ROW } from "./formats";
export { prefixPtr as rowPrefixPtr, setPrefix as setRowPrefix, wantSpans as wantRowSpans, spansPtr as rowSpansPtr, columns as rowColumns } from "./row";

export const ERR_BAD_FORMAT: i32 = -3;

// Worst case one record can take in any format: every string byte escaped
// (6 bytes in JSON) and repeated as hex, plus the fixed fields and each
// ancestor's.
const MAX_OUTPUT_PER_RECORD: usize = L.SLOT_COUNT * L.STR_LEN * 8 + (L.ANCESTORS + 1) * (L.COMM_LEN * 8 + 256) + 2048;

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
    imageRecords = heap.alloc((capacity / L.REC_SIZE + 1) << 2);
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

// What span() found: how many records its bytes hold, and which of them
// (offsets from the input's start) wait for user space to settle their
// image: hash it (IMAGE_SENT) or drop its chunks (IMAGE_RING_FULL), or
// hash the file of a program the kernel ran (IMAGE_ON_DISK).
let spanRecords: u32 = 0;
let imageRecords: usize = 0;
let imageRecordCount: u32 = 0;

// --container [ID] / --not-container, judged from each record's context as
// the batch is read: what fails it is dropped from the batch and counted.
export const FILTER_NONE: u32 = 0;
export const FILTER_INSIDE: u32 = 1;
export const FILTER_OUTSIDE: u32 = 2;
let containerFilter: u32 = FILTER_NONE;
const filterId = heap.alloc(256);
let filterIdLen: i32 = 0;
let filteredRecords: u32 = 0;

/** The filter; an id prefix (FILTER_INSIDE only) is the first idLen bytes at filterIdPtr(). */
export function setContainerFilter(mode: u32, idLen: i32): void {
  containerFilter = mode;
  filterIdLen = idLen < 0 ? 0 : idLen > 255 ? 255 : idLen;
}

export function filterIdPtr(): usize {
  return filterId;
}

export function filtered(): u32 {
  return filteredRecords;
}

function passes(rec: usize): bool {
  const inside = inContainer(rec);
  if (containerFilter == FILTER_OUTSIDE) return !inside;
  if (!inside) return false;
  return filterIdLen == 0 || (C.idLen >= filterIdLen && memory.compare(C.id, filterId, filterIdLen) == 0);
}

/** Checks the first len bytes of the input as a run of whole records and
 * returns the bytes of at most maxRecords of them (or an error code); the
 * count is spanCount(). decode() and tally() take that span. With a
 * container filter, the records it keeps are moved together first. */
export function span(len: u32, maxRecords: u32): i32 {
  if (len > inputCapacity) return ERR_BAD_LENGTH;
  let rec = input;
  let kept = input;
  const end = input + len;
  spanRecords = 0;
  imageRecordCount = 0;
  while (rec < end && spanRecords < maxRecords) {
    const error = recordError(rec, end - rec);
    if (error) return error;
    const size = load<u32>(rec + L.REC_OFF_SIZE);
    if (containerFilter != FILTER_NONE && !passes(rec)) filteredRecords++;
    else {
      if (kept != rec) memory.copy(kept, rec, size);
      const image = imageState(kept, load<u8>(kept + L.REC_OFF_EVENT));
      if (image == L.IMAGE_SENT || image == L.IMAGE_RING_FULL || image == L.IMAGE_ON_DISK) {
        store<u32>(imageRecords + (imageRecordCount << 2), <u32>(kept - input));
        imageRecordCount++;
      }
      kept += size;
      spanRecords++;
    }
    rec += size;
  }
  return <i32>(kept - input);
}

export function spanCount(): u32 {
  return spanRecords;
}

export function spanImagesPtr(): usize {
  return imageRecords;
}

export function spanImageCount(): u32 {
  return imageRecordCount;
}

/** Decodes the records of a span() into one output format. */
export function decode(len: u32, format: u32): i32 {
  if (len > inputCapacity) return ERR_BAD_LENGTH;
  if (format > ROW) return ERR_BAD_FORMAT;
  out.reset();
  row.resetSpans();
  let item = ends;
  const end = input + len;
  for (let rec = input; rec < end; rec += load<u32>(rec + L.REC_OFF_SIZE)) {
    // Checked again here, not only in span(): the input is whatever the caller put there.
    const error = recordError(rec, end - rec);
    if (error) return error;
    out.reserve(MAX_OUTPUT_PER_RECORD);
    if (format == TEXT) writeLine(rec, clockOffset);
    else if (format == ROW) {
      const start = out.length;
      s.begin(JSON);
      row.begin();
      writeEvent(rec, clockOffset);
      row.finish(start);
    } else {
      s.begin(format);
      writeEvent(rec, clockOffset);
      if (format == JSON) out.byte(0x0a);
    }
    store<u32>(item, <u32>out.length);
    item += 4;
  }
  return <i32>out.length;
}

export function tally(len: u32): void {
  const end = input + len;
  for (let rec = input; rec < end; rec += load<u32>(rec + L.REC_OFF_SIZE)) {
    if (recordError(rec, end - rec)) return;
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

const runtimeText = heap.alloc(32);
let runtimeTextLen: i32 = 0;

/** Is the record at offset `at` of the input in a container (the verdict of
 * inContainer and --container; the findings rules ask)? When it is, its
 * runtime's name ("" for none known) is at containerRuntimePtr() and its id
 * at containerIdPtr(). */
export function recordContainer(at: u32): bool {
  return recordContainerAt(input + at);
}

/** The same for a record anywhere in memory (one rebuildRun left at batchPtr()). */
export function recordContainerAt(rec: usize): bool {
  if (!inContainer(rec)) return false;
  const name = C.runtimeName(C.runtime);
  runtimeTextLen = <i32>String.UTF8.encodeUnsafe(changetype<usize>(name), name.length, runtimeText);
  return true;
}

export function containerRuntimePtr(): usize {
  return runtimeText;
}

export function containerRuntimeLen(): i32 {
  return runtimeTextLen;
}

export function containerIdPtr(): usize {
  return C.id;
}

export function containerIdLen(): i32 {
  return C.idLen;
}

export { mirrorPtr, rebuildRun, batchPtr, batchStartsPtr, batchConsumed, batchLength } from "./rebuild-run";
