// `read -o rows` against the JSON output of the same logs: every field of
// every event kind is a column, with its exact value and a value of the
// declared type; the expected columns come from the JSON, by the flattening
// rule docs/ANALYSIS.md states, not from the schema's code.
import { afterAll, describe, expect, test } from "bun:test";
import { decodeMultiple } from "cbor-x/decode";
import { Encoder } from "cbor-x/encode";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lines, LOGS, ok, parseExact } from "./fleet";
import { runModtrace } from "../lib/modtrace";

// The fleet's logs, and the unit tier's log from this machine's kernel (unreadable and non-UTF-8 strings).
const ALL_LOGS = [...LOGS, "tests/fixtures/kernel-6.18.cbor"];
const schema = JSON.parse(ok(["schema"]));
const columns: { name: string; type: string; nullable: boolean; since: number }[] = schema.tables.modtrace_events;
const byName = new Map(columns.map((c) => [c.name, c]));
const HEADER_COLUMNS = ["schemaVersion", "host", "kernel", "bootTime"];

/** An event of the JSON output as column name -> value, by the documented rule. */
function flatten(e: any): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(e)) {
    if (k === "args") {
      for (const a of v as any[]) for (const [entry, x] of Object.entries(a)) if (entry !== "name" && entry !== "type") out.set(entry === "value" ? a.name : `${a.name}_${entry}`, x);
    } else if (Array.isArray(v)) out.set(k, { list: v });
    else if (v && typeof v === "object") for (const [sub, x] of Object.entries(v)) out.set(`${k}_${sub}`, x);
    else out.set(k, v);
  }
  return out;
}

const RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n], uint32: [0n, 2n ** 32n - 1n], int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n],
};

function fits(type: string, v: unknown): boolean {
  if (v === null) return true;
  if (type === "bool") return typeof v === "boolean";
  if (type === "string") return typeof v === "string";
  if (type === "hex") return typeof v === "string" && /^([0-9a-f]{2})*$/.test(v);
  if (typeof v !== "bigint" && !Number.isInteger(v)) return false;
  const [lo, hi] = RANGES[type];
  return BigInt(v as number) >= lo && BigInt(v as number) <= hi;
}

/** A log's items as cbor-x decodes them (64-bit integers exact). */
function items(bytes: Uint8Array): any[] {
  const out: any[] = [];
  decodeMultiple(bytes, (x: any) => {
    out.push(x);
  });
  return out;
}

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const tmp = mkdtempSync(join(tmpdir(), "modtrace-rows-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function writeLog(name: string, logItems: any[]): string {
  const path = join(tmp, name);
  writeFileSync(path, Buffer.concat(logItems.map((i) => encoder.encode(i))));
  return path;
}

describe("rows", () => {
  test("every field of every event kind is a column, with the JSON output's exact value and the declared type", () => {
    const kinds = new Set<string>();
    const seen = new Set<string>();
    for (const log of ALL_LOGS) {
      const header = items(readFileSync(log))[0];
      const json = lines(ok(["read", log, "-o", "json"])).map(parseExact);
      const rows = lines(ok(["read", log, "-o", "rows"])).map(parseExact);
      expect(rows.length).toBe(json.length);
      json.forEach((e, i) => {
        const row = rows[i];
        kinds.add(e.eventName);
        expect(Object.keys(row)).toEqual(columns.map((c) => c.name));
        expect([row.host, row.kernel, BigInt(row.bootTime)]).toEqual([header.host, header.kernel, BigInt(header.bootTime)]);
        const fields = flatten(e);
        for (const [name, value] of fields) {
          seen.add(name);
          const column = byName.get(name);
          if (!column) throw new Error(`${e.eventName}'s field ${name} has no column`);
          // A list is JSON text in its column, the JSON output's list exactly.
          if (value && typeof value === "object" && "list" in value) {
            expect(column.type).toBe("string");
            expect(parseExact(row[name])).toEqual(value.list);
            continue;
          }
          expect(row[name]).toEqual(value);
          if (!fits(column.type, value)) throw new Error(`${e.eventName}'s ${name} = ${value} is not a ${column.type}`);
        }
        for (const c of columns) if (!fields.has(c.name) && !HEADER_COLUMNS.includes(c.name)) expect(row[c.name]).toBeNull();
      });
    }
    expect([...kinds].sort()).toEqual(["delete_module", "do_init_module", "finit_module", "init_module", "module_free", "module_load", "module_request"]);
    // The fixtures reach the columns of a string the kernel could not read, and of bytes that are not UTF-8.
    for (const name of ["name_error", "name_raw", "param_values_error", "flags_decoded", "taints_decoded", "dev_decoded", "sig_ok", "wait", "moduleName", "callId",
      "ancestors", "cgroup_path", "loginUserId", "capabilities_sysModule", "initialNamespaces_mount", "inContainer"]) expect(seen).toContain(name);
  });

  test("the schema is append-only in shape: unique names, versions only grow down the list", () => {
    const tables = Object.values(schema.tables) as { name: string; since: number }[][];
    for (const table of tables) {
      expect(new Set(table.map((c) => c.name)).size).toBe(table.length);
      expect(table[0].name).toBe("schemaVersion");
      table.forEach((c, i) => expect(c.since).toBeGreaterThanOrEqual(i ? table[i - 1].since : 1));
      expect(Math.max(...table.map((c) => c.since))).toBeLessThanOrEqual(schema.schemaVersion);
    }
    // The version names the newest column of some table (a version may add to one table only).
    expect(Math.max(...tables.flatMap((t) => t.map((c) => c.since)))).toBe(schema.schemaVersion);
  });

  test("a log with fields this schema lacks still converts: every event written, each unknown field reported once", () => {
    const original = items(readFileSync(LOGS[0]));
    const newer = original.map((item) =>
      item.eventName ? { ...item, futureContext: { container: "c1" }, args: [...item.args, { name: "future_arg", type: "u32", value: 7 }] } : item,
    );
    const log = writeLog("newer.cbor", newer);
    const r = runModtrace(["read", log, "-o", "rows"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(ok(["read", LOGS[0], "-o", "rows"]));
    for (const field of ["futureContext_container", "future_arg"]) expect(r.stderr.split(field).length - 1).toBe(1);
  });

  test("module_load's code range: where a log has it, read's JSON, text and rows give it exactly; where it does not (an older modtrace), no output invents it", () => {
    const original = items(readFileSync(LOGS[0]));
    const base = 0xffffffffc0a1b000n; // past 2^53: must come through exact
    const withRange = original.map((item) =>
      item.eventName === "module_load" ? { ...item, argsNum: item.argsNum + 2, args: [...item.args, { name: "code_base", type: "void*", value: base }, { name: "code_size", type: "unsigned int", value: 0x3000 }] } : item,
    );
    const log = writeLog("code-range.cbor", withRange);
    const loads = lines(ok(["read", log, "-o", "json"])).map(parseExact).filter((e) => e.eventName === "module_load");
    expect(loads.length).toBeGreaterThan(0);
    for (const e of loads) {
      expect(e.args.slice(-2)).toEqual([{ name: "code_base", type: "void*", value: base }, { name: "code_size", type: "unsigned int", value: 0x3000 }]);
      expect(e.argsNum).toBe(e.args.length);
    }
    expect(ok(["read", log, "-o", "text"])).toContain(`code_base: 0x${base.toString(16)}, code_size: 12288`);
    const rows = lines(ok(["read", log, "-o", "rows"])).map(parseExact).filter((r) => r.eventName === "module_load");
    for (const r of rows) expect([BigInt(r.code_base), r.code_size]).toEqual([base, 0x3000]);
    // The fixture as captured, before code ranges: no code_base anywhere.
    const before = lines(ok(["read", LOGS[0], "-o", "json"])).map(parseExact).filter((e) => e.eventName === "module_load");
    for (const e of before) expect([e.args.some((a: any) => a.name === "code_base"), e.argsNum]).toEqual([false, e.args.length]);
  });

  test("a value that does not fit its column is reported once and written as null; the event is kept", () => {
    const original = items(readFileSync(LOGS[0]));
    const odd = original.map((item) => (item.eventName ? { ...item, nameMismatch: "yes" } : item));
    const r = runModtrace(["read", writeLog("odd.cbor", odd), "-o", "rows"]);
    expect(r.exitCode).toBe(0);
    const rows = lines(r.stdout).map(parseExact);
    expect(rows.length).toBe(original.length - 2);
    for (const row of rows) expect(row.nameMismatch).toBeNull();
    expect(r.stderr.split("nameMismatch").length - 1).toBe(1);
  });

  test("captures keep the trailer's loss counts exactly, and a cut log says it is incomplete", () => {
    const original = items(readFileSync(LOGS[0]));
    const trailer = { ...original.at(-1), lost: 12, lostRingBuffer: 5, lostPriority: 4, lostInflight: 3, filtered: 2 };
    const lossy = writeLog("lossy.cbor", [...original.slice(0, -1), trailer]);
    const stats = JSON.parse(ok(["stats", "--json", lossy]));
    const [capture] = lines(ok(["read", lossy, "-o", "captures"])).map(parseExact);
    expect(capture).toMatchObject({ lost: stats.lost, filtered: stats.filtered, lostRingBuffer: 5, lostPriority: 4, lostInflight: 3, complete: true, problems: 0 });

    const bytes = readFileSync(LOGS[0]);
    const cut = join(tmp, "cut.cbor");
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const r = runModtrace(["read", cut, "-o", "captures"]);
    expect(r.exitCode).toBe(1);
    const [row] = lines(r.stdout).map(parseExact);
    const readable = lines(runModtrace(["read", cut, "-o", "json"]).stdout).length;
    expect(row).toMatchObject({ complete: false, skippedBytes: true, rowsRead: readable, lost: null });
    expect(row.problems).toBeGreaterThan(0);
  });

  test("rows honour read's filters", () => {
    const json = lines(ok(["read", ...LOGS, "-e", "module_load", "-o", "json"]));
    const rows = lines(ok(["read", ...LOGS, "-e", "module_load", "-o", "rows"])).map(parseExact);
    expect(rows.length).toBe(json.length);
    for (const row of rows) expect(row.eventName).toBe("module_load");
  });
});

describe("command line", () => {
  test("schema --sql prints each engine's DDL with every column", () => {
    for (const engine of ["duckdb", "clickhouse"]) {
      const ddl = ok(["schema", "--sql", engine]);
      for (const c of columns) expect(ddl).toContain(`"${c.name}"`);
    }
    expect(ok(["schema", "--sql", "clickhouse", "--cluster", "fleet"])).toContain("ENGINE = Distributed(fleet, default, modtrace_events_local, cityHash64(host))");
  });

  const usageErrors: [string[], string][] = [
    [["schema", "--sql", "mysql"], "Allowed choices are duckdb, clickhouse"],
    [["schema", "--cluster", "fleet"], "--cluster applies to --sql clickhouse"],
    [["read", LOGS[0], "-o", "parquet"], "parquet needs a directory"],
    [["read", LOGS[0], "-o", "raw"], "raw records come only from a live capture"],
    [["-o", "parquet:fleet"], "parquet is made from logs"],
    [["-o", "captures"], "captures is made from logs"],
    [["-o", "findings"], "findings is made from logs"],
    [["read", LOGS[0], "-o", `parquet:${LOGS[0]}`], "is not a directory"],
  ];
  for (const [args, message] of usageErrors)
    test(`usage error exits 2: ${args.join(" ")}`, () => {
      const r = runModtrace(args);
      expect(r.stderr).toContain(message);
      expect(r.exitCode).toBe(2);
    });

  test("--help teaches the analysis formats", () => {
    const read = ok(["read", "--help"]);
    for (const word of ["rows", "captures", "findings", "findings.parquet", "parquet:DIR", "JSONEachRow", "docs/ANALYSIS.md"]) expect(read).toContain(word);
    const schemaHelp = ok(["schema", "--help"]);
    for (const word of ["append-only", "--sql", "--cluster", "input_format_skip_unknown_fields"]) expect(schemaHelp).toContain(word);
  });
});
