// -o rows during a live capture: the decoder's CBOR items for a batch become
// row lines. Unlike the other formats this costs a JavaScript object per event
// (cbor-x decodes each map), which is why rows are not the capture path's
// default and `read -o rows` from a log is the cheaper way to get them.
import { decode, decodeMultiple } from "cbor-x/decode";
import { contextOf, Reporter, RowBuilder, type LogContext } from "./flatten";
import { jsonLineWriter } from "./json-rows";
import { EVENT_COLUMNS } from "./schema";

export class LiveRows {
  private ctx: LogContext;
  private rows = new RowBuilder(EVENT_COLUMNS, new Reporter());
  private line = jsonLineWriter(EVENT_COLUMNS);
  private text = new TextEncoder();

  /** header: the CBOR header item a log of this capture starts with, so rows
   * carry exactly what a log's rows would. */
  constructor(header: Uint8Array) {
    this.ctx = contextOf(decode(header));
  }

  /** The row lines of a batch of CBOR event items. */
  lines(cbor: Uint8Array): Uint8Array {
    let out = "";
    decodeMultiple(cbor, (e: any) => {
      out += this.line(this.rows.row(e, this.ctx));
    });
    return this.text.encode(out);
  }
}
