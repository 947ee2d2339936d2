// -o rows during a live capture: the decoder writes each event of a batch as
// a row line itself (decoder/assembly/row.ts), as `read -o rows` does from
// the capture's log; the lines start with the log header's columns.
import { decode } from "cbor-x/decode";
import type { Decoder } from "../decoder/host";
import { contextOf } from "./flatten";
import { rowPrefix } from "./json-rows";

export class LiveRows {
  private prefix: Uint8Array;

  /** header: the CBOR header item a log of this capture starts with, so rows
   * carry exactly what a log's rows would. */
  constructor(header: Uint8Array) {
    this.prefix = rowPrefix(contextOf(decode(header)));
  }

  /** The row lines of the first len bytes of the decoder's input; valid until its next call. */
  lines(decoder: Decoder, len: number): Uint8Array {
    decoder.setRowPrefix(this.prefix);
    return decoder.decode(len, "row");
  }
}
