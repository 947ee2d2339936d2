// An event map's arguments back into their record fields and string slots,
// where the catalogue says each lives (writeRecord's placements): each of the
// event's arguments is the first map of the list with its name; one the
// catalogue marks optional (ARG_NEEDS) may be missing.
import * as L from "./generated/layout";
import * as C from "./generated/catalogue";
import * as R from "./cbor-in";
import * as K from "./keys";
import { Built, intAt, mapEntries, slot } from "./rebuild-values";

const MAX_ARGS = 16;
// An argument's keys: name, type, value, then what the decoder adds.
const ARG_KEYS: StaticArray<usize> = [K.NAME, K.TYPE, K.VALUE, K.DECODED, K.TRUNCATED, K.ERROR, K.RAW];
const NAME = 0;
const VALUE = 2;
const TRUNCATED = 4;
const ERROR = 5;
const RAW = 6;
/** Per argument of the list: where each of ARG_KEYS' values starts. */
const entries = new StaticArray<usize>(MAX_ARGS * 7);
const one = new StaticArray<usize>(7);
const names = new StaticArray<usize>(MAX_ARGS);
const starts = new StaticArray<usize>(MAX_ARGS);
const nameLengths = new StaticArray<usize>(MAX_ARGS);

/** The record flags the arguments set (CODE_RANGE, SIG_OK...), or -1. */
export function readArgs(event: i32, pos: usize): i32 {
  const n = R.items(pos, MAX_ARGS, starts);
  if (n < 0) return -1;
  for (let i = 0; i < n; i++) {
    // Raw bytes beside a string: its record holds them, its map a text with replacements.
    if (!mapEntries(starts[i], ARG_KEYS, one) || !one[NAME] || one[RAW]) return -1;
    for (let k = 0; k < 7; k++) entries[i * 7 + k] = one[k];
    R.seek(one[NAME]);
    names[i] = R.text();
    if (R.bad()) return -1;
    nameLengths[i] = <usize>R.arg;
  }
  let flags: u32 = 0;
  const out = Built.out;
  for (let spec = <i32>C.FIRST_ARG[event]; spec < <i32>C.FIRST_ARG[event + 1]; spec++) {
    let i = 0;
    while (i < n && !R.spells(names[i], nameLengths[i], C.ARG_NAMES[spec])) i++;
    if (i == n) {
      if (C.ARG_NEEDS[spec]) continue; // not given (a log of an older modtrace)
      return -1;
    }
    flags |= C.ARG_NEEDS[spec];
    const e = i * 7;
    const value = entries[e + VALUE];
    const format = C.ARG_FORMATS[spec];
    const to = <usize>C.ARG_AT[spec];
    if (format == C.FORMAT_STRING) {
      if (!slot(C.ARG_AT[spec], value, entries[e + TRUNCATED], entries[e + ERROR], entries[e + RAW])) return -1;
    } else if (format == C.FORMAT_SIG_OK || format == C.FORMAT_BOOL) {
      if (!value) return -1;
      R.seek(value);
      if (!R.head() || R.major != 7) return -1;
      const yes = R.info == 21;
      if (format == C.FORMAT_BOOL) {
        if (R.info == 22) return -1;
        store<u64>(out + to, yes ? 1 : 0);
      } else if (R.info != 22) flags |= L.FLAG_SIG_OK_KNOWN | (yes ? L.FLAG_SIG_OK : 0);
    } else {
      if (!intAt(value)) return -1;
      if (format == C.FORMAT_DEV) store<u32>(out + to, <u32>Built.int);
      else store<u64>(out + to, Built.int);
    }
  }
  return <i32>flags;
}
