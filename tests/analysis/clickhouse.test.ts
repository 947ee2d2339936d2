// ClickHouse across machines, shown on one: two clickhouse-server 18.16
// processes as the two shards of cluster `fleet`, the tables that
// `modtrace schema --sql clickhouse --cluster fleet` prints, rows ingested
// through the Distributed table with clickhouse-client … FORMAT JSONEachRow,
// and the cookbook's answers equal to the JSON output's and stats'.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canon, cookbook, expectedAnswers, findingsLogs, lines, LOGS, ok, parseExact } from "./fleet";
import { ClickhouseFleet, clickhouseCannotRun, CLUSTER, SKIP_UNKNOWN_FIELDS } from "./clickhouse";

const ci = process.env.CI === "true";
const cannotRun = clickhouseCannotRun();
if (cannotRun && !ci) console.log(`clickhouse tests skipped: ${cannotRun}`);

const schema = JSON.parse(ok(["schema"]));
const eventColumns: { name: string; clickhouse: string }[] = schema.tables.modtrace_events;
const rowsText = ok(["read", ...LOGS, "-o", "rows"]);
const findingColumns: { name: string }[] = schema.tables.modtrace_findings;
const findingsDir = mkdtempSync(join(tmpdir(), "modtrace-clickhouse-"));
const findingsText = ok(["read", ...findingsLogs(findingsDir), "-o", "findings"]);

/** clickhouse-client's TSV output as rows of cells (\N is null). */
function tsv(out: string): (string | null)[][] {
  const unescape = (s: string) => s.replace(/\\(.)/g, (_m, c) => ({ t: "\t", n: "\n", "\\": "\\", "0": "\0" })[c as string] ?? c);
  return lines(out).map((l) => l.split("\t").map((c) => (c === "\\N" ? null : unescape(c))));
}

describe.skipIf(!!cannotRun && !ci)("ClickHouse, two shards behind a Distributed table", () => {
  const fleet = new ClickhouseFleet();

  beforeAll(async () => {
    if (cannotRun) throw new Error(`ClickHouse cannot run here: ${cannotRun}`);
    await fleet.start();
    fleet.createTables(ok(["schema", "--sql", "clickhouse", "--cluster", CLUSTER]));
    fleet.insert("modtrace_events", rowsText);
    fleet.insert("modtrace_captures", ok(["read", ...LOGS, "-o", "captures"]));
    fleet.insert("modtrace_findings", findingsText);
  }, 120_000);

  afterAll(() => {
    rmSync(findingsDir, { recursive: true, force: true });
    return fleet.stop();
  }, 60_000);

  test("both shards hold rows, each host's on one shard, and together all of them", () => {
    const perShard = fleet.ports.map((port) => tsv(fleet.run("SELECT host, count() FROM modtrace_events_local GROUP BY host", port)));
    for (const shard of perShard) expect(shard.length).toBeGreaterThan(0);
    const hosts = perShard.flat().map((r) => r[0]);
    expect(new Set(hosts).size).toBe(hosts.length);
    expect(perShard.flat().reduce((n, r) => n + Number(r[1]), 0)).toBe(lines(rowsText).length);
  });

  test("every row and column through the Distributed table, exactly as the rows file", () => {
    const columns = eventColumns.map((c) => `"${c.name}"`).join(", ");
    const back = tsv(fleet.run(`SELECT ${columns} FROM modtrace_events`));
    const expected = lines(rowsText).map(parseExact).map((r) => eventColumns.map((c) => r[c.name]));
    expect(canon(back)).toEqual(canon(expected));
  });

  test("every finding row and column through the Distributed table, exactly as the findings rows", () => {
    const columns = findingColumns.map((c) => `"${c.name}"`).join(", ");
    const back = tsv(fleet.run(`SELECT ${columns} FROM modtrace_findings`));
    const expected = lines(findingsText).map(parseExact).map((r) => findingColumns.map((c) => r[c.name]));
    expect(expected.length).toBeGreaterThan(0);
    expect(canon(back)).toEqual(canon(expected));
  });

  const expected = expectedAnswers();
  for (const [name, sql] of cookbook()) {
    test(`cookbook ${name}: the same answer as from JSON and stats (and DuckDB)`, () => {
      expect(canon(tsv(fleet.run(sql)))).toEqual(expected.get(name)!);
    });
  }

  test("schema evolution: an older table loads newer rows, a newer table loads older rows", () => {
    const port = fleet.ports[0];
    const older = eventColumns.slice(0, -1).map((c) => `"${c.name}" ${c.clickhouse}`).join(", ");
    fleet.run(`CREATE TABLE older (${older}) ENGINE = MergeTree() ORDER BY (host, timestamp)`, port);
    fleet.run("INSERT INTO older FORMAT JSONEachRow", port, rowsText, SKIP_UNKNOWN_FIELDS);
    expect(fleet.run("SELECT count() FROM older", port).trim()).toBe(String(lines(rowsText).length));
    const last = eventColumns.at(-1)!.name;
    const olderRows = lines(rowsText).map((l) => l.replace(new RegExp(`,"${last}":[^,}]*\\}$`), "}"));
    expect(olderRows[0]).not.toContain(`"${last}"`);
    fleet.run("INSERT INTO modtrace_events_local FORMAT JSONEachRow", port, olderRows.join("\n") + "\n", SKIP_UNKNOWN_FIELDS);
    expect(tsv(fleet.run(`SELECT count(), count("${last}") FROM modtrace_events_local WHERE schemaVersion > 0`, port))[0][1]).toBe("0");
  });
});
