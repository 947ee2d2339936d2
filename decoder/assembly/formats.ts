// The output formats, numbered once: decode()'s argument, and what the
// writers switch on. The TypeScript host reads these values from the module.
export const TEXT: u32 = 0;
export const JSON: u32 = 1;
export const CBOR: u32 = 2;
// JSON rearranged as one line of the events table (row.ts).
export const ROW: u32 = 3;
