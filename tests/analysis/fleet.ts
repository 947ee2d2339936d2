// The analysis tier's inputs and its independent expectations: the fleet
// fixtures (real logs from Debian 6.1, tests/fixtures/record-vm.ts), grouped
// by the host their header names, their JSON output (`modtrace read -o json`,
// the format the rows are checked against) and `modtrace stats --json`.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cborItems } from "../lib/cbor";
import { describeEnd, runModtrace } from "../lib/modtrace";

const FIXTURES = "tests/fixtures/vm";

export const LOGS: string[] = readdirSync(FIXTURES)
  .flatMap((host) => readdirSync(join(FIXTURES, host)).map((f) => join(FIXTURES, host, f)))
  .sort();

export function ok(args: string[]): string {
  const r = runModtrace(args);
  if (r.exitCode !== 0) throw new Error(`modtrace ${args.join(" ")} ended (${describeEnd(r)}): ${r.stderr}`);
  return r.stdout;
}

/** JSON with every integer exact: those past 2^53 become BigInt. */
export function parseExact(line: string): any {
  return JSON.parse(line, (_k, v, ctx?: { source?: string }) =>
    typeof v === "number" && !Number.isSafeInteger(v) && ctx?.source && /^-?\d+$/.test(ctx.source) ? BigInt(ctx.source) : v,
  );
}

export const lines = (text: string) => text.split("\n").filter(Boolean);

/** The log files of each host, by the host their header names (read with cbor-x, not with modtrace). */
export function logsByHost(logs = LOGS): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const log of logs) {
    const header = cborItems(readFileSync(log))[0];
    hosts.set(header.host, [...(hosts.get(header.host) ?? []), log]);
  }
  return hosts;
}

export interface HostEvent {
  host: string;
  e: any; // the event as `modtrace read -o json` prints it
}

export function jsonEvents(byHost = logsByHost()): HostEvent[] {
  return [...byHost].flatMap(([host, logs]) => lines(ok(["read", ...logs, "-o", "json"])).map((l) => ({ host, e: parseExact(l) })));
}

export const arg = (e: any, name: string) => e.args.find((a: any) => a.name === name)?.value ?? null;

export function statsByHost(byHost = logsByHost()): Map<string, any> {
  return new Map([...byHost].map(([host, logs]) => [host, JSON.parse(ok(["stats", "--json", ...logs]))]));
}

/** A query's answer as comparable text: one string per row, sorted. */
export function canon(rows: unknown[][]): string[] {
  const cell = (v: unknown) => (v === null || v === undefined ? "NULL" : typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  return rows.map((r) => r.map(cell).join("|")).sort();
}

/** The fixtures have no finding items (they were captured before the rules
 * existed): each host's logs judged by `modtrace findings -o cbor` make one
 * findings log per host in dir, whose header names that host. */
export function findingsLogs(dir: string): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return [...logsByHost()].map(([host, logs]) => {
    const out = join(dir, `${host}.findings.cbor`);
    ok(["findings", ...logs, "-o", `cbor:${out}`, "--overwrite"]);
    return out;
  });
}

/** Each host's findings as `modtrace findings -o json` prints them. */
export function jsonFindings(byHost = logsByHost()): { host: string; f: any }[] {
  return [...byHost].flatMap(([host, logs]) => lines(ok(["findings", ...logs, "-o", "json"])).map((l) => ({ host, f: parseExact(l) })));
}

/** The cookbook's queries, by name, from docs/ANALYSIS.md as users read them. */
export function cookbook(): Map<string, string> {
  const doc = readFileSync("docs/ANALYSIS.md", "utf8");
  const queries = new Map<string, string>();
  for (const m of doc.matchAll(/```sql\n-- query: ([\w-]+)\n([\s\S]*?)```/g)) queries.set(m[1], m[2].trim());
  return queries;
}

/** What each cookbook query must answer, computed from the JSON output and
 * from modtrace stats of the same logs, never from the rows code. */
export function expectedAnswers(): Map<string, string[]> {
  const byHost = logsByHost();
  const events = jsonEvents(byHost);
  const stats = statsByHost(byHost);
  const loads = events.filter(({ e }) => e.eventName === "module_load");
  const group = <T>(items: T[], key: (x: T) => string) => {
    const m = new Map<string, T[]>();
    for (const x of items) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
    return m;
  };
  const distinct = (xs: unknown[]) => new Set(xs.filter((x) => x !== null && x !== undefined)).size;
  const byModule = group(loads, ({ e }) => arg(e, "name"));
  const answers = new Map<string, unknown[][]>();

  answers.set(
    "modules-on-one-host",
    [...byModule].filter(([, l]) => distinct(l.map((x) => x.host)) === 1).map(([name, l]) => [name, l[0].host, l.length]),
  );
  const hashOf = (e: any) => e.sha256 ?? arg(e, "sha256");
  answers.set(
    "modules-with-several-hashes",
    [...byModule].filter(([, l]) => distinct(l.map((x) => hashOf(x.e))) > 1).map(([name, l]) => [name, distinct(l.map((x) => hashOf(x.e))), distinct(l.map((x) => x.host))]),
  );
  answers.set(
    "modules-with-several-srcversions",
    [...byModule]
      .filter(([, l]) => distinct(l.map((x) => arg(x.e, "src_version"))) > 1)
      .map(([name, l]) => {
        const withSrc = l.filter((x) => arg(x.e, "src_version") !== null);
        return [name, distinct(withSrc.map((x) => arg(x.e, "src_version"))), distinct(withSrc.map((x) => x.host))];
      }),
  );
  answers.set(
    "unsigned-loads",
    loads
      .filter(({ e }) => arg(e, "sig_ok") === false || (e.args.find((a: any) => a.name === "taints")?.decoded ?? "").includes("UNSIGNED_MODULE"))
      .map(({ host, e }) => [host, arg(e, "name"), e.processName, e.userId, e.hostProcessId, arg(e, "pathname")]),
  );
  answers.set(
    "failures-by-errno",
    [...stats].flatMap(([host, s]) =>
      Object.entries(s.failures as Record<string, number>).map(([key, n]) => {
        const [eventName, errno] = key.split(" ");
        return [host, eventName, errno, n];
      }),
    ),
  );
  answers.set(
    "events-per-host",
    [...stats].flatMap(([host, s]) => Object.entries(s.byEvent as Record<string, number>).map(([eventName, n]) => [host, eventName, n])),
  );
  answers.set(
    "losses-per-host",
    [...stats].map(([host, s]) => {
      if (!s.complete) throw new Error(`${host}'s fixture logs are incomplete: losses-per-host's incomplete count needs a per-file expectation`);
      return [host, byHost.get(host)!.length, s.lost, s.filtered, 0];
    }),
  );
  const findings = jsonFindings(byHost);
  const newest = findings.reduce((m, { f }) => (BigInt(f.timestamp) > m ? BigInt(f.timestamp) : m), 0n);
  const lastWeek = findings.filter(({ f }) => BigInt(f.timestamp) > newest - 7n * 86400n * 1_000_000_000n);
  answers.set(
    "findings-last-week-by-host",
    [...group(lastWeek, ({ host, f }) => `${host} ${f.severity} ${f.eventName}`)].map(([key, l]) => [...key.split(" "), l.length]),
  );
  return new Map([...answers].map(([k, v]) => [k, canon(v)]));
}
