// DuckDB (embedded, @duckdb/node-api, a dev dependency) loads the fleet's
// rows with the DDL `modtrace schema --sql duckdb` prints, and reads its
// Parquet files: every column back exactly, and the cookbook's answers equal
// what the JSON output and `modtrace stats` of the same logs say.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cborItems } from "../lib/cbor";
import { duckdbFromRows, duckdbOverParquet } from "./duckdb";
import { canon, cookbook, expectedAnswers, findingsLogs, jsonFindings, lines, LOGS, ok, parseExact } from "./fleet";

const dir = mkdtempSync(join(tmpdir(), "modtrace-duckdb-"));
const schema = JSON.parse(ok(["schema"]));
const eventColumns: { name: string; duckdb: string }[] = schema.tables.modtrace_events;
const rowsText = ok(["read", ...LOGS, "-o", "rows"]);
const FINDINGS = findingsLogs(join(dir, "findings-logs"));
const findingsText = ok(["read", ...FINDINGS, "-o", "findings"]);
const findingColumns: { name: string; duckdb: string }[] = schema.tables.modtrace_findings;
let fromRows: DuckDBConnection;
let fromParquet: DuckDBConnection;

async function rowsOf(c: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await c.runAndReadAll(sql)).getRowsJS() as unknown[][];
}

/** The rows file's own rows, each as its columns' values in schema order. */
const rowsFileRows = () => lines(rowsText).map(parseExact).map((r) => eventColumns.map((c) => r[c.name]));

beforeAll(async () => {
  writeFileSync(join(dir, "events.jsonl"), rowsText);
  writeFileSync(join(dir, "captures.jsonl"), ok(["read", ...LOGS, "-o", "captures"]));
  writeFileSync(join(dir, "findings.jsonl"), findingsText);
  ok(["read", ...LOGS, "-o", `parquet:${join(dir, "parquet")}`]);
  ok(["read", ...FINDINGS, "-o", `parquet:${join(dir, "parquet-findings")}`]);

  fromRows = await duckdbFromRows(ok(["schema", "--sql", "duckdb"]), join(dir, "events.jsonl"), join(dir, "captures.jsonl"), join(dir, "findings.jsonl"));
  fromParquet = await duckdbOverParquet(join(dir, "parquet"), join(dir, "parquet-findings"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("DuckDB", () => {
  test("rows load with the printed DDL: every row, every column, exactly", async () => {
    const loaded = await rowsOf(fromRows, "SELECT * FROM modtrace_events");
    expect(loaded.length).toBe(lines(rowsText).length);
    expect(canon(loaded)).toEqual(canon(rowsFileRows()));
  });

  test("Parquet reads back every column exactly, with the types the schema declares", async () => {
    const described = await rowsOf(fromParquet, "DESCRIBE SELECT * FROM modtrace_events");
    expect(described.map((d) => [d[0], d[1]])).toEqual(eventColumns.map((c) => [c.name, c.duckdb]));
    expect(canon(await rowsOf(fromParquet, "SELECT * FROM modtrace_events"))).toEqual(canon(rowsFileRows()));
    // One Parquet file per log file, rotated segments included.
    const files = readdirSync(join(dir, "parquet"), { recursive: true }).filter((f) => String(f).endsWith(".parquet") && !/^(captures|findings)\.parquet$/.test(String(f)));
    expect(files.length).toBe(LOGS.length);
  });

  test("each Parquet file keeps its log's header and trailer; captures.parquet has the exact loss counts", async () => {
    for (const log of LOGS) {
      const items = cborItems(readFileSync(log));
      const header = items[0];
      const trailer = items.at(-1);
      const meta = await rowsOf(
        fromParquet,
        `SELECT decode(key), decode(value) FROM parquet_kv_metadata('${dir}/parquet/${header.host}/${log.split("/").pop()!.replace(/\.cbor$/, ".parquet")}')`,
      );
      const kv = Object.fromEntries(meta.map(([k, v]) => [k, v]));
      expect(JSON.parse(kv["modtrace.header"] as string)).toMatchObject({ host: header.host, kernel: header.kernel, hooks: header.hooks, part: header.part });
      expect(JSON.parse(kv["modtrace.trailer"] as string)).toMatchObject({ eventsInFile: trailer.eventsInFile, ...(trailer.lost !== undefined && { lost: trailer.lost }) });
      const [capture] = await rowsOf(
        fromParquet,
        `SELECT lost, eventsInFile, hooks, complete FROM modtrace_captures WHERE host = '${header.host}' AND file = '${log.split("/").pop()}'`,
      );
      expect(capture).toEqual([trailer.lost === undefined ? null : BigInt(trailer.lost), BigInt(trailer.eventsInFile), JSON.stringify(header.hooks), true]);
    }
  });

  test("the DuckDB example in `read --help`, run as printed over a converted fleet: every event, per host", async () => {
    const sql = /duckdb -c "([^"]+)"/.exec(ok(["read", "--help"]))?.[1];
    expect(sql).toBeDefined();
    const c = await (await DuckDBInstance.create(":memory:")).connect();
    const got = await rowsOf(c, sql!.replaceAll("'fleet/", `'${join(dir, "parquet")}/`));
    const perHost = new Map<string, number>();
    for (const r of lines(rowsText).map(parseExact)) perHost.set(r.host, (perHost.get(r.host) ?? 0) + 1);
    expect(Object.fromEntries(got.map(([host, n]) => [host, Number(n)]))).toEqual(Object.fromEntries(perHost));
  });

  test("docs/ANALYSIS.md's parquet_kv_metadata query, run as printed, gives the header as JSON text", async () => {
    const sql = /^(SELECT .*parquet_kv_metadata\('fleet\/[^']+'\));/m.exec(readFileSync(join(import.meta.dir, "../../docs/ANALYSIS.md"), "utf8"))?.[1];
    expect(sql).toBeDefined();
    const header = cborItems(readFileSync(LOGS[0]))[0];
    const file = join(dir, "parquet", header.host, LOGS[0].split("/").pop()!.replace(/\.cbor$/, ".parquet"));
    const c = await (await DuckDBInstance.create(":memory:")).connect();
    const kv = Object.fromEntries((await rowsOf(c, sql!.replace(/'fleet\/[^']+'/, `'${file}'`))).map(([k, v]) => [k, v]));
    expect(JSON.parse(kv["modtrace.header"] as string)).toMatchObject({ host: header.host, part: header.part });
  });

  test("logs converted in batches into one directory: captures.parquet keeps every batch's rows, and a log converted again replaces its own", async () => {
    const batches = join(dir, "batches");
    const [first, ...rest] = LOGS;
    ok(["read", first, "-o", `parquet:${batches}`]);
    ok(["read", ...rest, "-o", `parquet:${batches}`]);
    const captures = async () => {
      const c = await duckdbOverParquet(batches);
      return (await rowsOf(c, "SELECT host, file, eventsInFile FROM modtrace_captures ORDER BY host, file")).map((r) => r.join(" "));
    };
    const all = await captures();
    expect(all.length).toBe(LOGS.length);
    // The same rows as one conversion of every log gives.
    expect(all).toEqual((await rowsOf(fromParquet, "SELECT host, file, eventsInFile FROM modtrace_captures ORDER BY host, file")).map((r) => r.join(" ")));
    // Again, with --overwrite for its events file: one row for it still.
    ok(["read", first, "-o", `parquet:${batches}`, "--overwrite"]);
    expect(await captures()).toEqual(all);
  });

  test("findings: rows and Parquet load every finding exactly, and say what `findings -o json` says of each host", async () => {
    const own = lines(findingsText).map(parseExact);
    const json = jsonFindings();
    expect(own.length).toBe(json.length);
    expect(own.length).toBeGreaterThan(0);
    // Each row against the finding the JSON output printed for its host.
    const key = (host: string, rule: string, timestamp: unknown, description: string) => `${host}|${rule}|${timestamp}|${description}`;
    const byKey = new Map(json.map(({ host, f }) => [key(host, f.eventName, f.timestamp, f.description), f]));
    for (const r of own) {
      const f = byKey.get(key(r.host, r.rule, r.timestamp, r.description));
      expect(f).toBeDefined();
      expect([r.severity, r.moduleName ?? undefined, r.hostProcessId ?? undefined, JSON.parse(r.techniques)]).toEqual([f.severity, f.moduleName, f.hostProcessId, f.techniques.map((t: any) => t.id)]);
      expect(JSON.parse(r.evidenceCallIds).map(String)).toEqual(f.evidence.filter((e: any) => e.callId !== undefined).map((e: any) => String(e.callId)));
      expect(r.file).toBe(`${r.host}.findings.cbor`);
    }
    const ownRows = own.map((r) => findingColumns.map((c) => r[c.name]));
    expect(canon(await rowsOf(fromRows, "SELECT * FROM modtrace_findings"))).toEqual(canon(ownRows));
    const described = await rowsOf(fromParquet, "DESCRIBE SELECT * FROM modtrace_findings");
    expect(described.map((d) => [d[0], d[1]])).toEqual(findingColumns.map((c) => [c.name, c.duckdb]));
    expect(canon(await rowsOf(fromParquet, "SELECT * FROM modtrace_findings"))).toEqual(canon(ownRows));
    // Logs without findings convert to a findings table that is there and empty.
    expect(await rowsOf(await duckdbOverParquet(join(dir, "parquet")), "SELECT count(*) FROM modtrace_findings")).toEqual([[0n]]);
  });

  test("docs/ANALYSIS.md's findings-to-evidence join, run as printed: every finding's evidence events come back", async () => {
    const sql = /```sql\n(SELECT f\.host[\s\S]*?JOIN modtrace_events[\s\S]*?)```/.exec(readFileSync(join(import.meta.dir, "../../docs/ANALYSIS.md"), "utf8"))?.[1];
    expect(sql).toBeDefined();
    const got = new Set((await rowsOf(fromRows, sql!)).map(([host, rule, , eventName]) => `${host} ${rule} ${eventName}`));
    const wanted = jsonFindings().flatMap(({ host, f }) => f.evidence.filter((e: any) => e.callId !== undefined).map((e: any) => `${host} ${f.eventName} ${e.eventName}`));
    expect(wanted.length).toBeGreaterThan(0);
    for (const w of wanted) expect(got).toContain(w);
  });

  test("findings logs converted in batches: findings.parquet keeps every batch's findings, and a log converted again replaces its own", async () => {
    const batches = join(dir, "findings-batches");
    const [first, ...rest] = FINDINGS;
    expect(rest.length).toBeGreaterThan(0);
    ok(["read", first, "-o", `parquet:${batches}`]);
    ok(["read", ...rest, "-o", `parquet:${batches}`]);
    const ids = async () => (await rowsOf(await duckdbOverParquet(batches), "SELECT findingId FROM modtrace_findings ORDER BY findingId")).map((r) => r[0]);
    const all = await ids();
    expect(all).toEqual(lines(findingsText).map((l) => JSON.parse(l).findingId).sort());
    ok(["read", first, "-o", `parquet:${batches}`, "--overwrite"]);
    expect(await ids()).toEqual(all);
  });

  const queries = cookbook();
  const expected = expectedAnswers();

  test("the cookbook and its expectations name the same queries; the fixtures make the answers non-trivial", () => {
    expect([...queries.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const name of ["modules-on-one-host", "modules-with-several-hashes", "modules-with-several-srcversions", "unsigned-loads", "failures-by-errno", "findings-last-week-by-host"])
      expect(expected.get(name)!.length).toBeGreaterThan(0);
  });

  for (const [name, sql] of queries) {
    test(`cookbook ${name}: the same answer from rows and from Parquet as from JSON and stats`, async () => {
      expect(canon(await rowsOf(fromRows, sql))).toEqual(expected.get(name)!);
      expect(canon(await rowsOf(fromParquet, sql))).toEqual(expected.get(name)!);
    });
  }

  test("schema evolution: an older table loads newer rows, a newer table loads older rows", async () => {
    const c = await (await DuckDBInstance.create(":memory:")).connect();
    const older = eventColumns.slice(0, -1);
    const struct = (cols: typeof eventColumns) => `{${cols.map((x) => `'${x.name}': '${x.duckdb}'`).join(", ")}}`;
    // Older table, newer rows: the column it lacks is not read.
    await c.run(`CREATE TABLE older AS SELECT * FROM read_json('${dir}/events.jsonl', format = 'newline_delimited', columns = ${struct(older)})`);
    expect(await rowsOf(c, "SELECT count(*) FROM older")).toEqual([[BigInt(lines(rowsText).length)]]);
    // Newer table, older rows (without the last column): null there.
    const last = eventColumns.at(-1)!.name;
    const olderRows = lines(rowsText).map((l) => {
      const r = parseExact(l);
      delete r[last];
      return JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? `${v}` : v)).replace(/"(\d{16,})"/g, "$1");
    });
    writeFileSync(join(dir, "older.jsonl"), olderRows.join("\n") + "\n");
    await c.run(ok(["schema", "--sql", "duckdb"]));
    await c.run(`INSERT INTO modtrace_events SELECT * FROM modtrace_events_rows('${dir}/older.jsonl')`);
    expect(await rowsOf(c, `SELECT count(*), count("${last}") FROM modtrace_events`)).toEqual([[BigInt(olderRows.length), 0n]]);
  });
});
