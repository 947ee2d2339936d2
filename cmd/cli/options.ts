// Options several commands share, and what their answers become: outputs
// with --overwrite, the log commands' filter, the findings rules' data.
import { Command, Option } from "commander";
import { readFileSync } from "node:fs";
import type { EventInfo } from "../../catalogue/events";
import type { ContainerFilter, EventFilter } from "../../log/filter";
import { COLOUR_CHOICES, UsageError, type OutputSpec } from "../../output/outputs";
import { ConfigError, findingsConfig, type FindingsConfig } from "../../findings/config";
import { SEVERITIES } from "../../findings/finding";
import { collect, eventList, instant, nonNegativeInt, ruleList } from "./values";

/** --overwrite, for every command that writes files. There is no --append:
 * a CBOR log is one capture's sequence, header to trailer. */
export function overwriteOption() {
  return new Option("--overwrite", "replace an output file that exists (default: refuse it and leave it as it is)");
}

/** The outputs with --overwrite's answer in each. */
export function withOverwrite(spec: OutputSpec, o: { overwrite?: boolean }): OutputSpec {
  return { ...spec, overwrite: Boolean(o.overwrite) };
}

/** The command line as the user typed it: in a compiled binary, argv[1] is
 * Bun's internal path (/$bunfs/root/modtrace), not the program's. */
export function commandLine(): string[] {
  try {
    return readFileSync("/proc/self/cmdline", "utf8").split("\0").slice(0, -1);
  } catch {
    return process.argv.slice(1);
  }
}

/** --container [ID] and --not-container, or a usage error when both are given. */
export function containerFilter(o: any): ContainerFilter | undefined {
  if (o.container !== undefined && o.notContainer) throw new UsageError("--container and --not-container exclude each other");
  if (o.notContainer) return { inside: false };
  if (o.container === undefined) return undefined;
  if (o.container === true) return { inside: true };
  if (!/^[\x21-\x7e]{1,255}$/.test(o.container)) throw new UsageError(`--container takes a container id or its first characters, got '${o.container}'`);
  return { inside: true, id: o.container };
}

/** --attach, for capture and for doctor's plan. MODTRACE_ATTACH sets it for
 * every run of a shell, so a test suite or a wrapper script can pin one mode
 * without editing each command line; a flag on the command line wins. */
export function attachOption(): Option {
  return new Option("--attach <mode>", "how syscall events are hooked: auto picks the cheapest this kernel has")
    .choices(["auto", "fentry", "kprobe", "raw"]).default("auto").env("MODTRACE_ATTACH");
}

/** The rules' data with --findings-config, --module-tool and --disable-rule. */
export function configFrom(o: any): FindingsConfig {
  try {
    return findingsConfig({ file: o.findingsConfig, moduleTools: o.moduleTool, disabledRules: (o.disableRule ?? []).flat() });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

/** The options both capture and `findings` take. */
export function ruleOptions(cmd: Command): Command {
  return colourOption(cmd)
    .addOption(new Option("--fail-on <severity>", "exit 3 when a finding at or above this severity was made").choices(SEVERITIES))
    .addOption(new Option("--disable-rule <ids>", "turn these rules off (comma-separated, repeatable; see modtrace rules)").argParser(collect(ruleList)))
    .addOption(new Option("--module-tool <path>", "one more executable that loads modules as a matter of course (repeatable)").argParser(collect(String)))
    .addOption(new Option("--findings-config <file>", "JSON that adds to the rules' lists and replaces severities (the shape modtrace rules --json prints)"));
}

/** --color for the commands that print FINDING lines (capture, read, findings). */
export function colourOption(cmd: Command): Command {
  return cmd.addOption(new Option("--color <when>", "colour FINDING lines: auto (on a terminal, unless NO_COLOR is set), always or never").choices(COLOUR_CHOICES).default("auto"));
}

/** --wide for the commands that print text rows (capture, read). */
export function wideOption(cmd: Command): Command {
  return cmd.option("--wide", "text rows on a terminal whole, not cut to its width (files and pipes always get them whole)");
}

export function filterFrom(o: any): EventFilter {
  return {
    events: o.events ? new Set((o.events as EventInfo[][]).flat().map((e) => e.name)) : undefined,
    pids: o.pid ?? [],
    comms: o.comm ?? [],
    sinceNs: o.since,
    untilNs: o.until,
    container: containerFilter(o),
  };
}

/** --pid, --comm, --container and --not-container: capture and the log commands select alike. */
export function processOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--pid <pid>", "only processes with this host pid").argParser(collect(nonNegativeInt("--pid"))))
    .addOption(new Option("--comm <name>", "only processes with this command name (first 15 bytes)").argParser(collect(String)))
    .addOption(new Option("--container [id]", "only calls from containers (by cgroup, or by their own pid and mount namespaces), or from the container whose id starts with ID"))
    .addOption(new Option("--not-container", "only calls from outside containers"));
}

export function addLogFilters(cmd: Command): Command {
  return processOptions(cmd)
    .addOption(new Option("-e, --events <list>", "only these events (comma-separated)").argParser(collect(eventList)))
    .addOption(new Option("--since <time>", "only events at or after this time (ISO 8601 or epoch seconds)").argParser(instant("--since")))
    .addOption(new Option("--until <time>", "only events at or before this time").argParser(instant("--until")));
}
