// The commands about this kernel and modtrace itself: scan, rules, schema,
// events, doctor.
import { printOut, quietWhenReaderGoes } from "../../output/outputs";
import { Command, Option } from "commander";
import { EVENTS } from "../../catalogue/events";
import { modesFor } from "../../catalogue/programs";
import { hookLabel } from "../../loader/hooks";
import { doctor } from "../doctor";
import { SEVERITIES } from "../../findings/finding";
import { ruleIds } from "../../findings/engine";
import { TRACE_RULES } from "../../findings/rules/index";
import { WATCH_RULES } from "../../findings/live";
import { MODULE_RULES } from "../../scan/module-checks";
import { SCAN_HELP, SCHEMA_HELP } from "./help-texts";
import { attachOption, configFrom } from "./options";
import { collect, ruleList } from "./values";

/** scan, rules, schema, events and doctor. */
export function addKernelCommands(program: Command, run: { exitCode: number }) {
  program
    .command("scan")
    .description("check the kernel once, with no capture: every loaded module against its file and package, every syscall, ftrace and hiding check the capture runs")
    .option("--json", "one JSON object: modules (with their files' hashes and packages), BPF programs (with their holders), findings, checks that could not run")
    .addOption(new Option("--fail-on <severity>", "exit 3 when a finding at or above this severity was made").choices(SEVERITIES).default("high"))
    .addOption(new Option("--disable-rule <ids>", "leave these checks out (comma-separated, repeatable; see modtrace rules)").argParser(collect(ruleList)))
    .addOption(new Option("--module-tool <path>", "one more executable that loads modules as a matter of course (repeatable)").argParser(collect(String)))
    .addOption(new Option("--findings-config <file>", "JSON that adds to the rules' lists (the shape modtrace rules --json prints)"))
    .addHelpText("after", SCAN_HELP)
    .action(async (o) => {
      const { scanCommand } = await import("../scan");
      run.exitCode = await quietWhenReaderGoes(() => scanCommand({ json: Boolean(o.json), failOn: o.failOn, config: configFrom(o) }));
    });

  program
    .command("rules")
    .description("list the findings rules, their severities and lists (the defaults, plus --findings-config)")
    .option("--json", "the whole configuration as JSON: a template for --findings-config")
    .addOption(new Option("--findings-config <file>", "show the configuration with this file added"))
    .action(async (o) => {
      run.exitCode = await quietWhenReaderGoes(() => rules(configFrom(o), Boolean(o.json)));
    });

  /** The rules, their severities and what each reads (or the whole configuration as JSON). */
  function rules(config: ReturnType<typeof configFrom>, json: boolean): number {
    if (json) {
      printOut(JSON.stringify(config, null, 2) + "\n");
      return 0;
    }
    const ids = [...ruleIds(WATCH_RULES), ...MODULE_RULES];
    const severities = (id: string) => Object.entries(config.severity).filter(([k]) => k === id || k.startsWith(`${id}.`)).map(([k, v]) => `${k.slice(id.length + 1) || "base"} ${v}`);
    // A trace rule's events, as its unit declares them.
    const reads = (id: string) => {
      const unit = TRACE_RULES.find((u) => u.ids.includes(id));
      return unit ? `  (reads ${unit.events.map((n) => EVENTS.find((e) => e.id === n)?.name ?? n).join(", ")})` : "";
    };
    for (const id of ids) printOut(`${id.padEnd(28)} ${severities(id).join(", ")}${id === "monitor_tampered" ? "  (live only: looks at the capture itself)" : WATCH_RULES.includes(id) ? "  (live only: looks at the running kernel)" : (MODULE_RULES as readonly string[]).includes(id) ? "  (modtrace scan only)" : reads(id)}${config.disabledRules.includes(id) ? "  DISABLED" : ""}\n`);
    printOut("\nWhat each rule catches, why, and its known false positives: README.md, Findings.\n");
    return 0;
  }

  program
    .command("schema")
    .description("print the row schema of -o rows, captures, findings and parquet: as JSON, or as an engine's DDL")
    .addOption(new Option("--sql <engine>", "print CREATE TABLE statements instead").choices(["duckdb", "clickhouse"]))
    .addOption(new Option("--cluster <name>", "clickhouse: a table per shard (NAME_local) and a Distributed table over this cluster"))
    .addOption(new Option("--database <name>", "clickhouse: the database of the tables").default("default"))
    .addHelpText("after", SCHEMA_HELP)
    .action(async (o) => {
      if (o.cluster && o.sql !== "clickhouse") program.error("error: --cluster applies to --sql clickhouse", { exitCode: 2 });
      const { schemaCommand } = await import("../schema");
      run.exitCode = await quietWhenReaderGoes(() => {
        printOut(schemaCommand(o));
        return 0;
      });
    });

  program
    .command("events")
    .description("list the events modtrace can capture, with their arguments and hooks")
    .action(async () => {
      run.exitCode = await quietWhenReaderGoes(events);
    });

  /** Each event, its arguments and its hooks. */
  function events(): number {
    for (const e of EVENTS) {
      const hooks = modesFor(e.kind).map((m) => hookLabel(e, m));
      const how = e.kind === "scan" ? "found by: modtrace's scans of the kernel's lists (every --scan-interval), no hook" : `hooks, preferred first: ${hooks.join(" → ")}`;
      printOut(`${e.name.padEnd(15)} ${e.about}\n${"".padEnd(15)} args: ${e.args.map((a) => a.name).join(", ")}\n${"".padEnd(15)} ${how}\n`);
    }
    return 0;
  }

  program
    .command("doctor")
    .description("report what this kernel supports and whether capture can run, without attaching anything")
    .option("--json", "the same as one JSON object (checks with ok true, false or null for cannot tell; the attach plan), for scripts and tests")
    .addOption(attachOption())
    .action(async (o) => {
      run.exitCode = await quietWhenReaderGoes(() => doctor(Boolean(o.json), o.attach));
    });
}
