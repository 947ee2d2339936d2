// The row schema: one flat, typed column per field modtrace knows; the
// events table's from the field table (catalogue/fields.ts), the captures'
// and findings' here. `modtrace schema` prints it as JSON and as each engine's DDL,
// `read -o rows` and `-o parquet` write it. Append-only: a new field is a new
// column at the END of its list with `since` one above the newest column's
// (SCHEMA_VERSION, the newest, follows); a column is never renamed, retyped or removed, so a table made from an older
// version keeps loading newer rows (engines skip the columns they lack) and a
// newer table loads older rows (the missing columns are null).
//
// How an event map becomes columns (rows/flatten.ts), one rule for every
// field, present and future:
//   top-level scalar            key                 processName, callId
//   top-level map               key_sub             executable_path
//   argument                    its name            pathname, flags
//   argument's other entries    name_entry          flags_decoded, name_raw
//   top-level list              key, as JSON text   ancestors
// so a field added to events later lands in the column of that name once its
// entry is appended to the field table, and until then is reported (once)
// and left out.

import { FIELDS, isArgument, type ColumnType, type Field, type FieldEntry } from "../catalogue/fields";

export type { ColumnType } from "../catalogue/fields";

export interface Column {
  name: string;
  type: ColumnType;
  /** Never null: the engines may key and partition on it. */
  required?: true;
  /** The SCHEMA_VERSION that added it. */
  since: number;
  about: string;
}

const v1 = (name: string, type: ColumnType, about: string, required?: true): Column => ({ name, type, since: 1, about, ...(required && { required }) });
const v2 = (name: string, type: ColumnType, about: string): Column => ({ name, type, since: 2, about });
const v4 = (name: string, type: ColumnType, about: string): Column => ({ name, type, since: 4, about });
const v5 = (name: string, type: ColumnType, about: string, required?: true): Column => ({ name, type, since: 5, about, ...(required && { required }) });

/** A string argument's column and the entries the decoder adds when it must. */
function stringArgColumns(name: string, about: string, since: number): Column[] {
  return [
    { name, type: "string", since, about: `${about} (invalid UTF-8 replaced by U+FFFD; exact bytes in ${name}_raw)` },
    { name: `${name}_truncated`, type: "bool", since, about: `true when ${name} was longer than a record holds and was cut` },
    { name: `${name}_error`, type: "string", since, about: `why ${name} is null although the event has it ("unreadable": the kernel could not read the caller's memory)` },
    { name: `${name}_raw`, type: "hex", since, about: `the exact bytes of ${name} when they are not valid UTF-8` },
  ];
}

/** An entry of the field table (catalogue/fields.ts) as columns, by the rule above. */
function columnsOf(e: FieldEntry): Column[] {
  if (isArgument(e)) {
    if (e.type === "string") return stringArgColumns(e.argument, e.about, e.since);
    const value: Column = { name: e.argument, type: e.type, since: e.since, about: e.about };
    return e.decoded ? [value, { name: `${e.argument}_decoded`, type: "string", since: e.since, about: e.decoded }] : [value];
  }
  if (e.noColumn) return [];
  const required = e.required && { required: e.required };
  if (e.type === "list") return [{ name: e.key, type: "string", since: e.since, about: e.about, ...required }];
  if (e.type === "map") return (e.entries ?? []).map((s) => ({ name: `${e.key}_${s.key}`, type: columnType(s), since: s.since, about: s.about }));
  return [{ name: e.key, type: columnType(e), since: e.since, about: e.about, ...required }];
}

function columnType(f: Field): ColumnType {
  if (f.type === "map" || f.type === "list" || f.type === "scalar") throw new Error(`field ${f.key}: a ${f.type} is no one column`);
  return f.type;
}

/** The events table's first columns: the log header's (which machine, which
 * kernel, which boot), the same in every row of a log. */
export const LOG_HEADER_COLUMNS: Column[] = [
  v1("schemaVersion", "uint32", "the row schema version that wrote this row", true),
  v1("host", "string", "host name of the machine that captured (log header; empty if the header was lost)", true),
  v1("kernel", "string", "kernel release of that machine (log header)", true),
  v1("bootTime", "int64", "wall-clock time of that boot, ns since the epoch (log header): timestamp - bootTime is the kernel's boot clock", true),
];

/** Columns of the events table (rows, Parquet), in order: the log header's, then the event's fields. */
export const EVENT_COLUMNS: Column[] = [...LOG_HEADER_COLUMNS, ...FIELDS.flatMap(columnsOf)];

/** Columns of the captures table: one row per log file, its header and
 * trailer, so what a capture attached and what it lost stay queryable. */
export const CAPTURE_COLUMNS: Column[] = [
  v1("schemaVersion", "uint32", "the row schema version that wrote this row", true),
  v1("file", "string", "the log file's name (without its directory)", true),
  v1("host", "string", "host name of the machine that captured", true),
  v1("kernel", "string", "its kernel release", true),
  v1("bootTime", "int64", "wall-clock time of that boot, ns since the epoch", true),
  v1("start", "int64", "when the capture started, ns since the epoch"),
  v1("part", "uint32", "which file of a rotated set (1 for the first)"),
  v1("modtraceVersion", "string", "modtrace's version"),
  v1("formatVersion", "uint32", "the log format's version"),
  v1("events", "string", "the events attached (JSON array)"),
  v1("hooks", "string", "the hook each event got (JSON object: event -> hook): the attach modes"),
  v1("unavailable", "string", "events that could not be attached, and why (JSON object)"),
  v1("filters", "string", "the capture's kernel-side filters (JSON object)"),
  v1("commandLine", "string", "modtrace's command line (JSON array)"),
  v1("complete", "bool", "the file ends with a trailer: the capture stopped cleanly (or rotated) and its counts are exact", true),
  v1("rotated", "bool", "the trailer closes one file of a rotated set; the set's counts are in its last file"),
  v1("next", "string", "rotated: the next file of the set"),
  v1("end", "int64", "when the capture (or this file) ended, ns since the epoch"),
  v1("eventsInFile", "uint64", "events in this file, by the trailer"),
  v1("eventsWritten", "uint64", "events the capture wrote in all its files, by the trailer"),
  v1("counts", "string", "events written per kind (JSON object)"),
  v1("lost", "uint64", "events lost in the kernel, all causes (exact)"),
  v1("lostRingBuffer", "uint64", "lost: the failed-attempts ring was full"),
  v1("lostPriority", "uint64", "lost: the priority ring was full"),
  v1("lostInflight", "uint64", "lost: no in-flight slot"),
  v1("filtered", "uint64", "events dropped by the capture's filters"),
  v1("rowsRead", "uint64", "event rows read from this file (after read's own filters)", true),
  v1("problems", "uint32", "problems the reader reported in this file (cut, corrupt, no header/trailer)", true),
  v1("skippedBytes", "bool", "the reader skipped damaged bytes: some events of this file may be missing", true),
  v2("ancestors", "uint32", "how many ancestors each event recorded at most (--ancestors)"),
  // Module identity (schema 2).
  v2("imageHook", "string", "what streamed module images for hashing (header)"),
  v2("imageHookUnavailable", "string", "why nothing did: load events then have sha256Error (header)"),
  v2("imagesHashed", "uint64", "distinct module images hashed (trailer)"),
  v2("imagesRingFull", "uint64", "images that did not fit in the image ring: no hash (trailer)"),
  v2("imagesLost", "uint64", "images whose chunks did not all reach modtrace: no hash (trailer)"),
  v2("imagesSaved", "uint64", "--save-modules: new files written (trailer)"),
  v2("imagesAlreadySaved", "uint64", "--save-modules: images whose file was there already (trailer)"),
  v2("imagesNotSaved", "uint64", "--save-modules: images left out (--save-limit reached, or a write failed) (trailer)"),
  // Findings and seals (schema 4).
  v4("callsUntracked", "uint64", "module calls that could not be tracked (over 4,096 in flight at once): their kernel-side events carry another callId (trailer)"),
  v4("findings", "string", "findings the capture made, per rule and severity (trailer; JSON object)"),
  v4("sealing", "string", "a sealed log: its key's fingerprint, --seal-interval and the file before it in a rotated set (header; JSON object; modtrace verify checks it)"),
  v4("seal", "string", "a sealed log's last seal (trailer; JSON object): what modtrace verify checks the file against"),
  // The findings table (schema 5).
  v5("modulesAtStart", "string", "the modules the kernel listed when the capture began: name, size, users, state, address, taints, signature, srcversion, version (header; JSON array; null: no module support, or a log from before schema 5)"),
  v5("findingsOf", "string", "a findings log (modtrace findings -o cbor): the logs its findings were made from, as given on the command line (header; JSON array); its host, kernel and bootTime are theirs when they name one machine and boot, else host and kernel are the judging machine's and bootTime 0"),
];

/** Columns of the findings table (schema 5): one row per finding a log holds,
 * tied to its log (host, file) and to its evidence (callIds, as events carry them). */
export const FINDING_COLUMNS: Column[] = [
  v5("schemaVersion", "uint32", "the row schema version that wrote this row", true),
  v5("host", "string", "host name of the machine that captured (log header)", true),
  v5("kernel", "string", "its kernel release (log header)", true),
  v5("bootTime", "int64", "wall-clock time of that boot, ns since the epoch (log header)", true),
  v5("file", "string", "the log file that holds the finding (without its directory): the captures table's file", true),
  v5("findingId", "string", "sha256 (first 16 bytes, hex) of the host, boot and the finding as logged: the same finding converted twice has the same id", true),
  v5("timestamp", "int64", "when the finding was made: its last evidence's time, or when a kernel watch saw it; ns since the epoch", true),
  v5("rule", "string", "the rule that made it (README.md, Findings): the finding's eventName in JSON and CBOR", true),
  v5("severity", "string", "info, low, medium, high or critical", true),
  v5("techniques", "string", "MITRE ATT&CK technique ids (JSON array)"),
  v5("description", "string", "one line for a person", true),
  v5("evidence", "string", "the events it rests on, oldest first (JSON array of {eventName, timestamp, callId})"),
  v5("evidenceCallIds", "string", "the callIds among them (JSON array of integers): join on the events table's callId with host and bootTime"),
  v5("moduleName", "string", "the module it is about"),
  v5("hostProcessId", "uint32", "the caller it is about: pid as the host sees it"),
  v5("processName", "string", "that caller's comm"),
  v5("executable_path", "string", "that caller's executable"),
  v5("userId", "uint32", "that caller's real uid"),
  v5("details", "string", "the rule's own facts: counts, paths, syscalls (JSON object)"),
];

export const TABLES = { events: EVENT_COLUMNS, captures: CAPTURE_COLUMNS, findings: FINDING_COLUMNS } as const;

/** The newest column's version: a field added to the table with the next
 * version makes the schema that version. */
export const SCHEMA_VERSION = Math.max(...Object.values(TABLES).flatMap((columns) => columns.map((c) => c.since)));
export type TableName = keyof typeof TABLES;
