// From a fleet's logs to answers, at scale: 1,000 simulated hosts' logs
// (bench/fleet-logs.ts: real captured events) converted with read -o rows and
// -o parquet, loaded into DuckDB and into two ClickHouse shards, and each
// cookbook query timed, against modtrace stats on the same logs. One run,
// side by side. BENCH_HOSTS and BENCH_EVENTS_PER_HOST change the volume.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClickhouseFleet, clickhouseCannotRun, CLUSTER } from "../tests/analysis/clickhouse";
import { duckdbFromRows, duckdbOverParquet } from "../tests/analysis/duckdb";
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

/** bytes cut after a newline into pieces of about `size` bytes. */
function* linePieces(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let start = 0; start < bytes.length; ) {
    let end = Math.min(bytes.length, start + size);
    while (end < bytes.length && bytes[end - 1] !== 0x0a) end++;
    yield bytes.subarray(start, end);
    start = end;
  }
}

export async function benchAnalysis(): Promise<string[]> {
  const out: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "modtrace-bench-analysis-"));
  try {
    const logs = writeFleetLogs(join(dir, "logs"), HOSTS, PER_HOST);
    const events = HOSTS * PER_HOST;
    const cborBytes = size(logs);
    out.push(`Analysis: ${HOSTS} hosts x ${PER_HOST} events = ${events} events, ${mb(cborBytes)} of CBOR logs`);

    const statsFile = join(dir, "stats.json");
    const [, statsSec] = timed(() => modtrace(["stats", "--json", ...logs], statsFile));
    const statsOut = JSON.parse(readFileSync(statsFile, "utf8"));
    out.push(`  modtrace stats (all logs)           ${statsSec.toFixed(2)} s  ${Math.round(events / statsSec)} events/s`);
    const rowsFile = join(dir, "events.jsonl");
    const [, rowsSec] = timed(() => modtrace(["read", ...logs, "-o", `rows:${rowsFile}`]));
    out.push(`  read -o rows                        ${rowsSec.toFixed(2)} s  ${Math.round(events / rowsSec)} rows/s  ${mb(size([rowsFile]))} (x${(size([rowsFile]) / cborBytes).toFixed(2)} the CBOR)`);
    const capturesFile = join(dir, "captures.jsonl");
    modtrace(["read", ...logs, "-o", `captures:${capturesFile}`]);
    const findingsFile = join(dir, "findings.jsonl");
    modtrace(["read", ...logs, "-o", `findings:${findingsFile}`]);
    const parquetDir = join(dir, "parquet");
    const [, parquetSec] = timed(() => modtrace(["read", ...logs, "-o", `parquet:${parquetDir}`]));
    const parquetBytes = size(walk(parquetDir));
    out.push(`  read -o parquet                     ${parquetSec.toFixed(2)} s  ${Math.round(events / parquetSec)} rows/s  ${mb(parquetBytes)} (x${(parquetBytes / cborBytes).toFixed(2)} the CBOR) in ${walk(parquetDir).length} files`);

    const queries = cookbook();
    const ddl = modtrace(["schema", "--sql", "duckdb"]).toString();
    const [duck, duckLoad] = await timedAsync(() => duckdbFromRows(ddl, rowsFile, capturesFile, findingsFile));
    out.push(`  DuckDB load from rows               ${duckLoad.toFixed(2)} s  ${Math.round(events / duckLoad)} rows/s`);
    const pq = await duckdbOverParquet(parquetDir);

    const ch = clickhouseCannotRun() ? undefined : new ClickhouseFleet();
    const chTimes = new Map<string, number>();
    if (ch) {
      // Stopped whatever happens: a server left running would answer for the next run's.
      try {
        await ch.start();
        ch.createTables(modtrace(["schema", "--sql", "clickhouse", "--cluster", CLUSTER]).toString());
        const [, chLoad] = timed(() => {
          // In pieces: one insert of the whole file passes the server's memory limit per query (1.86 GiB).
          for (const piece of linePieces(readFileSync(rowsFile), 256 << 20)) ch.insert("modtrace_events", piece);
          ch.insert("modtrace_captures", readFileSync(capturesFile));
        });
        out.push(`  ClickHouse 2 shards, load from rows ${chLoad.toFixed(2)} s  ${Math.round(events / chLoad)} rows/s (clickhouse-client, Distributed, insert_distributed_sync)`);
        for (const [name, sql] of queries) {
          ch.run(sql); // warm
          // --time: the server's time for the query, without clickhouse-client's own start-up.
          const r = ch.query(sql, ch.ports[0], undefined, ["--time"]);
          chTimes.set(name, Number(r.err.trim().split("\n").at(-1)));
        }
        const total = Number(ch.run("SELECT count() FROM modtrace_events").trim());
        if (total !== events) throw new Error(`ClickHouse holds ${total} rows, not ${events}`);
      } finally {
        await ch.stop();
      }
    } else out.push(`  ClickHouse: not run (${clickhouseCannotRun()})`);

    out.push(`  cookbook query                      DuckDB table  DuckDB Parquet  ClickHouse (via Distributed)`);
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
