// DuckDB set up as docs/ANALYSIS.md tells a user to: tables from the printed
// DDL loaded from rows files, or views over a Parquet directory.
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";

export async function duckdbFromRows(ddl: string, eventsFile: string, capturesFile: string, findingsFile: string): Promise<DuckDBConnection> {
  const c = await (await DuckDBInstance.create(":memory:")).connect();
  await c.run(ddl);
  await c.run(`INSERT INTO modtrace_events SELECT * FROM modtrace_events_rows('${eventsFile}')`);
  await c.run(`INSERT INTO modtrace_captures SELECT * FROM modtrace_captures_rows('${capturesFile}')`);
  await c.run(`INSERT INTO modtrace_findings SELECT * FROM modtrace_findings_rows('${findingsFile}')`);
  return c;
}

/** The tables as views over `read -o parquet:DIR`'s files (the findings
 * table from findingsDir's, when the findings logs were converted apart). */
export async function duckdbOverParquet(dir: string, findingsDir = dir): Promise<DuckDBConnection> {
  const c = await (await DuckDBInstance.create(":memory:")).connect();
  await c.run(`CREATE VIEW modtrace_events AS SELECT * FROM read_parquet('${dir}/*/*.parquet', union_by_name = true)`);
  await c.run(`CREATE VIEW modtrace_captures AS SELECT * FROM read_parquet('${dir}/captures.parquet')`);
  await c.run(`CREATE VIEW modtrace_findings AS SELECT * FROM read_parquet('${findingsDir}/findings.parquet')`);
  return c;
}
