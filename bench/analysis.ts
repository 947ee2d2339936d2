// From a fleet's logs to answers, at scale: 1,000 simulated hosts' logs
// (bench/fleet-logs.ts: real captured events) converted with read -o rows and
// -o parquet, loaded into DuckDB and into two ClickHouse shards, and each
// cookbook query timed, against modtrace stats on the same logs. One run,
// side by side. BENCH_HOSTS and BENCH_EVENTS_PER_HOST change the volume.
import { DuckDBInstance } from "@duckdb/node-api";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClickhouseFleet, clickhouseCannotRun, CLUSTER } from "../tests/analysis/clickhouse";
import { cookbook } from "../tests/analysis/fleet";
import { writeFleetLogs } from "./fleet-logs";

const MODTRACE = new URL("../dist/modtrace", import.meta.url).pathname;
const HOSTS = Number(process.env.BENCH_HOSTS ?? 1000);
const PER_HOST = Number(process.env.BENCH_EVENTS_PER_HOST ?? 500);

function timed<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, (performance.now() - t) / 1000];
}

async function timedAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, (performance.now() - t) / 1000];
}

function modtrace(args: string[], stdout: "pipe" | string = "pipe"): Buffer {
  const r = Bun.spawnSync([MODTRACE, ...args], { stdout: stdout === "pipe" ? "pipe" : Bun.file(stdout), stderr: "pipe", maxBuffer: 1 << 30 } as any);
  if (r.exitCode !== 0) throw new Error(`modtrace ${args.slice(0, 3).join(" ")} … exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout as Buffer;
}

const size = (paths: string[]) => paths.reduce((n, p) => n + statSync(p).size, 0);
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const walk = (dir: string): string[] => readdirSync(dir, { recursive: true }).map((f) => join(dir, String(f))).filter((f) => statSync(f).isFile());

export async function benchAnalysis(): Promise<string[]> {
  const out: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "modtrace-bench-analysis-"));
  try {
    const logs = writeFleetLogs(join(dir, "logs"), HOSTS, PER_HOST);
    const events = HOSTS * PER_HOST;
    const cborBytes = size(logs);
    out.push(`Analysis: ${HOSTS} hosts x ${PER_HOST} events = ${events} events, ${mb(cborBytes)} of CBOR logs`);

    const [statsOut, statsSec] = timed(() => JSON.parse(modtrace(["stats", "--json", ...logs]).toString()));
    out.push(`  modtrace stats (all logs)           ${statsSec.toFixed(2)} s  ${Math.round(events / statsSec)} events/s`);
    const rowsFile = join(dir, "events.jsonl");
    const [, rowsSec] = timed(() => modtrace(["read", ...logs, "-o", `rows:${rowsFile}`]));
    out.push(`  read -o rows                        ${rowsSec.toFixed(2)} s  ${Math.round(events / rowsSec)} rows/s  ${mb(size([rowsFile]))} (x${(size([rowsFile]) / cborBytes).toFixed(2)} the CBOR)`);
    const capturesFile = join(dir, "captures.jsonl");
    modtrace(["read", ...logs, "-o", `captures:${capturesFile}`]);
    const parquetDir = join(dir, "parquet");
    const [, parquetSec] = timed(() => modtrace(["read", ...logs, "-o", `parquet:${parquetDir}`]));
    const parquetBytes = size(walk(parquetDir));
    out.push(`  read -o parquet                     ${parquetSec.toFixed(2)} s  ${Math.round(events / parquetSec)} rows/s  ${mb(parquetBytes)} (x${(parquetBytes / cborBytes).toFixed(2)} the CBOR) in ${walk(parquetDir).length} files`);

    const queries = cookbook();
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    await duck.run(modtrace(["schema", "--sql", "duckdb"]).toString());
    const [, duckLoad] = await timedAsync(async () => {
      await duck.run(`INSERT INTO modtrace_events SELECT * FROM modtrace_events_rows('${rowsFile}')`);
      await duck.run(`INSERT INTO modtrace_captures SELECT * FROM modtrace_captures_rows('${capturesFile}')`);
    });
    out.push(`  DuckDB load from rows               ${duckLoad.toFixed(2)} s  ${Math.round(events / duckLoad)} rows/s`);
    const pq = await (await DuckDBInstance.create(":memory:")).connect();
    await pq.run(`CREATE VIEW modtrace_events AS SELECT * FROM read_parquet('${parquetDir}/*/*.parquet', union_by_name = true)`);
    await pq.run(`CREATE VIEW modtrace_captures AS SELECT * FROM read_parquet('${parquetDir}/captures.parquet')`);

    const ch = clickhouseCannotRun() ? undefined : new ClickhouseFleet();
    const chTimes = new Map<string, number>();
    if (ch) {
      await ch.start();
      const ddl = modtrace(["schema", "--sql", "clickhouse", "--cluster", CLUSTER]).toString().split(/;\n/).map((s) => s.replace(/^--.*\n/gm, "").trim()).filter(Boolean);
      for (const port of ch.ports) for (const s of ddl) ch.run(s, port);
      const settings = ["--input_format_skip_unknown_fields=1", "--insert_distributed_sync=1"];
      const [, chLoad] = timed(() => {
        ch.run("INSERT INTO modtrace_events FORMAT JSONEachRow", ch.ports[0], readFileSync(rowsFile), settings);
        ch.run("INSERT INTO modtrace_captures FORMAT JSONEachRow", ch.ports[0], readFileSync(capturesFile), settings);
      });
      out.push(`  ClickHouse 2 shards, load from rows ${chLoad.toFixed(2)} s  ${Math.round(events / chLoad)} rows/s (clickhouse-client, Distributed, insert_distributed_sync)`);
      for (const [name, sql] of queries) {
        ch.run(sql); // warm
        chTimes.set(name, timed(() => ch.run(sql))[1]);
      }
      const total = Number(ch.run("SELECT count() FROM modtrace_events").trim());
      if (total !== events) throw new Error(`ClickHouse holds ${total} rows, not ${events}`);
      await ch.stop();
    } else out.push(`  ClickHouse: not run (${clickhouseCannotRun()})`);

    out.push(`  cookbook query                      DuckDB table  DuckDB Parquet  ClickHouse (incl. client start)`);
    for (const [name, sql] of queries) {
      await duck.run(sql);
      const [, d] = await timedAsync(() => duck.run(sql));
      await pq.run(sql);
      const [, p] = await timedAsync(() => pq.run(sql));
      const c = chTimes.get(name);
      out.push(`  ${name.padEnd(36)}${(d * 1000).toFixed(1).padStart(8)} ms ${(p * 1000).toFixed(1).padStart(11)} ms ${c === undefined ? "-" : (c * 1000).toFixed(1).padStart(12) + " ms"}`);
    }

    // The answers stats also gives must agree: events per kind and failures per errno, fleet-wide.
    const perEvent = (await duck.runAndReadAll(queries.get("events-per-host")!)).getRowsJS() as [string, string, bigint][];
    const sumBy = (rows: unknown[][], key: (r: any) => string, n: (r: any) => number) =>
      rows.reduce<Record<string, number>>((m, r) => ((m[key(r)] = (m[key(r)] ?? 0) + n(r)), m), {});
    const agree = (a: Record<string, number>, b: Record<string, number>) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
    const failures = (await duck.runAndReadAll(queries.get("failures-by-errno")!)).getRowsJS() as [string, string, string, bigint][];
    const ok =
      agree(sumBy(perEvent, (r) => r[1], (r) => Number(r[2])), statsOut.byEvent) &&
      agree(sumBy(failures, (r) => `${r[1]} ${r[2]}`, (r) => Number(r[3])), statsOut.failures);
    out.push(`  events per kind and failures per errno, summed over hosts, ${ok ? "equal" : "DIFFER FROM"} modtrace stats' (${statsSec.toFixed(2)} s for stats to answer them once)`);
    if (!ok) throw new Error("the cookbook's answers differ from modtrace stats'");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (import.meta.main) for (const l of await benchAnalysis()) console.log(l);
