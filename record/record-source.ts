// What a record is rebuilt from (records.ts, context-record.ts): the typed
// event of a log, less what the decoder derives again.
import type { LoggedArgument, LoggedEvent } from "./generated/event";

/** What a record is rebuilt from: an event map, less what the decoder
 * derives again from the record (eventId, syscall, argsNum, argument types). */
export type RecordSource = Omit<LoggedEvent, "eventId" | "syscall" | "argsNum" | "args"> & {
  args: (Pick<LoggedArgument, "name" | "value"> & Partial<LoggedArgument>)[];
};
