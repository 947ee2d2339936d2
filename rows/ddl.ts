// The schema as each engine's DDL, printed by `modtrace schema --sql ENGINE`.
import { TABLES, type Column, type ColumnType, type TableName } from "./schema";

export const ENGINES = ["duckdb", "clickhouse"] as const;
export type Engine = (typeof ENGINES)[number];

export const TABLE_NAMES: Record<TableName, string> = { events: "modtrace_events", captures: "modtrace_captures", findings: "modtrace_findings" };

/** ClickHouse: the time each table is partitioned by, and its sort key. */
const CLICKHOUSE_LAYOUT: Record<TableName, { time: string; key: string }> = {
  events: { time: "timestamp", key: "(host, eventName, timestamp)" },
  captures: { time: "bootTime", key: "(host, bootTime, file)" },
  findings: { time: "timestamp", key: "(host, severity, rule, timestamp)" },
};

const DUCKDB: Record<ColumnType, string> = {
  bool: "BOOLEAN", int32: "INTEGER", uint32: "UINTEGER", int64: "BIGINT", uint64: "UBIGINT", string: "VARCHAR", hex: "VARCHAR",
};
// ClickHouse 18.16 has no Bool type: UInt8 0/1, as its JSONEachRow reads true/false.
const CLICKHOUSE: Record<ColumnType, string> = {
  bool: "UInt8", int32: "Int32", uint32: "UInt32", int64: "Int64", uint64: "UInt64", string: "String", hex: "String",
};

const quote = (name: string) => `"${name}"`;

export function duckdbType(c: Column): string {
  return DUCKDB[c.type];
}

export function clickhouseType(c: Column): string {
  return c.required ? CLICKHOUSE[c.type] : `Nullable(${CLICKHOUSE[c.type]})`;
}

function columnList(columns: Column[], type: (c: Column) => string, notNull: boolean): string {
  return columns.map((c) => `  ${quote(c.name)} ${type(c)}${notNull && c.required ? " NOT NULL" : ""}`).join(",\n");
}

/** DuckDB: the tables, and a table macro per table that reads rows files
 * with exactly the table's columns and types (keys a newer modtrace added are
 * ignored, keys an older one lacked are null). */
function duckdb(): string {
  return (Object.keys(TABLES) as TableName[])
    .map((t) => {
      const cols = TABLES[t];
      const struct = cols.map((c) => `'${c.name}': '${duckdbType(c)}'`).join(", ");
      return (
        `CREATE TABLE IF NOT EXISTS ${TABLE_NAMES[t]} (\n${columnList(cols, duckdbType, true)}\n);\n` +
        `CREATE OR REPLACE MACRO ${TABLE_NAMES[t]}_rows(path) AS TABLE\n` +
        `  SELECT * FROM read_json(path, format = 'newline_delimited', columns = {${struct}});\n`
      );
    })
    .join("\n");
}

export interface ClickhouseOptions {
  /** With a cluster: a local table per shard and a Distributed table over them. */
  cluster?: string;
  database?: string;
}

/** ClickHouse (18.16 and later): MergeTree tables partitioned by month and
 * sorted by host and time; with a cluster, each shard's table is NAME_local
 * and NAME is a Distributed table sharding by host (a host's rows on one shard). */
function clickhouse(o: ClickhouseOptions): string {
  const db = o.database ?? "default";
  const out: string[] = [];
  for (const t of Object.keys(TABLES) as TableName[]) {
    const cols = TABLES[t];
    const name = TABLE_NAMES[t];
    const local = o.cluster ? `${name}_local` : name;
    const { time, key } = CLICKHOUSE_LAYOUT[t];
    out.push(
      (o.cluster ? `-- on every shard\n` : "") +
        `CREATE TABLE IF NOT EXISTS ${db}.${local} (\n${columnList(cols, clickhouseType, false)}\n)\n` +
        `ENGINE = MergeTree()\nPARTITION BY toYYYYMM(toDateTime(intDiv(${time}, 1000000000)))\nORDER BY ${key};\n`,
    );
    if (o.cluster)
      out.push(
        `-- where queries and inserts go (any or every node)\n` +
          `CREATE TABLE IF NOT EXISTS ${db}.${name} AS ${db}.${local}\n` +
          `ENGINE = Distributed(${o.cluster}, ${db}, ${local}, cityHash64(host));\n`,
      );
  }
  return out.join("\n");
}

export function ddl(engine: Engine, o: ClickhouseOptions = {}): string {
  return engine === "duckdb" ? duckdb() : clickhouse(o);
}

/** The schema for tools: every table's columns, in order, with types and docs. */
export function schemaJson(version: number): object {
  return {
    schemaVersion: version,
    tables: Object.fromEntries(
      (Object.keys(TABLES) as TableName[]).map((t) => [
        TABLE_NAMES[t],
        TABLES[t].map((c) => ({ name: c.name, type: c.type, nullable: !c.required, since: c.since, about: c.about, duckdb: duckdbType(c), clickhouse: clickhouseType(c) })),
      ]),
    ),
  };
}
