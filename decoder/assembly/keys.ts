// Every key the structured formats write comes from the field table
// (catalogue/fields.ts), generated as pieces (pieces.ts); the fixed text
// values are here.
import { text } from "./pieces";

export * from "./generated/keys";

export const UNREADABLE = text("unreadable");
export const EMPTY = text("");
