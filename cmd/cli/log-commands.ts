// The commands on logs, which need no privileges: findings, read, stats, verify.
import { Command, Option } from "commander";
import { readFileSync } from "node:fs";
import { read } from "../read";
import { stats } from "../stats";
import { checkBinaryToTerminal, quietWhenReaderGoes, UsageError } from "../../output/outputs";
import { FINDINGS_HELP, READ_HELP, VERIFY_HELP } from "./help-texts";
import { addLogFilters, colourOption, configFrom, filterFrom, overwriteOption, ruleOptions, wideOption, withOverwrite } from "./options";
import { outputSpec, threadCount } from "./values";

/** findings, read, stats and verify. */
export function addLogCommands(program: Command, run: { exitCode: number }) {
  ruleOptions(
    program
      .command("findings")
      .description("judge the events of cbor logs with the findings rules: exactly what capture found live; needs no privileges")
      .argument("<files...>", "cbor logs written by -o cbor:PATH")
      .addOption(new Option("-o, --output <format[:path]>", "text, json or cbor").default({ format: "text" }, "text").argParser(outputSpec))
      .addOption(overwriteOption()),
  )
    .addHelpText("after", FINDINGS_HELP)
    .action(async (files: string[], o) => {
      if (!["text", "json", "cbor"].includes(o.output.format)) program.error("error: findings writes text, json or cbor", { exitCode: 2 });
      checkBinaryToTerminal([o.output], Boolean(process.stdout.isTTY));
      const { findingsCommand } = await import("../findings");
      run.exitCode = await quietWhenReaderGoes(() => findingsCommand({ files, output: withOverwrite(o.output, o), config: configFrom(o), failOn: o.failOn, colour: o.color }));
    });

  addLogFilters(wideOption(colourOption(
    program
      .command("read")
      .description("print the events of cbor logs as capture printed them, in the order the files are given (a rotated set's names sort by time: logs/mod-*.cbor); needs no privileges")
      .argument("<files...>", "cbor logs written by -o cbor:PATH")
      .addOption(new Option("-o, --output <format[:path]>", "text, json, cbor, rows, captures, findings or parquet:DIR").default({ format: "text" }, "text").argParser(outputSpec))
      .addOption(overwriteOption()),
  )))
    .addHelpText("after", READ_HELP)
    .action(async (files: string[], o) => {
      const format = o.output.format;
      if (format === "raw") program.error("error: read writes text, json, cbor, rows, captures, findings or parquet (raw records come only from a live capture)", { exitCode: 2 });
      if (format === "parquet" && !o.output.path) program.error("error: parquet needs a directory: -o parquet:DIR (one file per log goes there)", { exitCode: 2 });
      checkBinaryToTerminal([o.output], Boolean(process.stdout.isTTY));
      if (format === "parquet" || format === "captures" || format === "findings" || format === "rows") {
        // Loaded only here: capture's start-up and memory need none of it.
        const { readTables } = await import("../../rows/read-tables");
        try {
          run.exitCode = await quietWhenReaderGoes(() => readTables({ files, output: withOverwrite(o.output, o), filter: filterFrom(o) }));
        } catch (e) {
          if (e instanceof UsageError) program.error(`error: ${e.message}`, { exitCode: 2 });
          throw e;
        }
      } else run.exitCode = await quietWhenReaderGoes(() => read({ files, output: withOverwrite(o.output, o), filter: filterFrom(o), colour: o.color, wide: o.wide === true }));
    });

  addLogFilters(
    program
      .command("stats")
      .description("summarise cbor logs: events per kind, process and module, failures per errno, losses, time span")
      .argument("<files...>", "cbor logs written by -o cbor:PATH")
      .option("--json", "one JSON object instead of tables")
      .addOption(
        new Option("--threads <n>", "1 or 2: a set of logs of 32 MiB or more is read on two cores where modtrace may run on two, its later files in a second thread (some 50 MiB more memory); 1 keeps to one core")
          .default(2)
          .argParser(threadCount),
      ),
  ).action(async (files: string[], o) => {
    run.exitCode = await quietWhenReaderGoes(() => stats({ files, json: Boolean(o.json), filter: filterFrom(o), threads: o.threads }));
  });

  program
    .command("verify")
    .description("check that sealed cbor logs are as the capture wrote them, or say where they were cut, changed or forged; needs no privileges")
    .argument("<files...>", "cbor logs written by -o cbor:PATH (a rotated set in any order)")
    .option("--key <hex>", "the seal key the capture printed (its first key, 64 hex digits)")
    .option("--key-file <path>", "read the seal key from this file (as --seal-key-file wrote it)")
    .addOption(new Option("-o, --output <format[:path]>", "text or json").default({ format: "text" }, "text").argParser(outputSpec))
    .addHelpText("after", VERIFY_HELP)
    .action(async (files: string[], o) => {
      if (!["text", "json"].includes(o.output.format)) program.error("error: verify writes text or json", { exitCode: 2 });
      if (o.key !== undefined && o.keyFile !== undefined) program.error("error: give the key once: --key or --key-file", { exitCode: 2 });
      const { parseKey } = await import("../../log/seal");
      let key: Uint8Array | undefined;
      if (o.key !== undefined) {
        key = parseKey(o.key);
        if (!key) program.error("error: --key is 64 hex digits, as the capture printed it", { exitCode: 2 });
      } else if (o.keyFile !== undefined) {
        let text: string;
        try {
          text = readFileSync(o.keyFile, "utf8");
        } catch (e: any) {
          process.stderr.write(`modtrace: cannot read the key file ${o.keyFile}: ${e.code === "ENOENT" ? "no such file" : e.message}\n`);
          run.exitCode = 2;
          return;
        }
        key = parseKey(text);
        if (!key) program.error(`error: ${o.keyFile} does not hold a seal key (64 hex digits)`, { exitCode: 2 });
      }
      const { verify } = await import("../verify");
      run.exitCode = await quietWhenReaderGoes(() => verify({ files, key, output: o.output }));
    });
}
