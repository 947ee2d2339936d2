#!/usr/bin/env bun
// modtrace's command line. commander parses it (cliffy, the card's choice,
// is Deno-only); usage errors exit 2, runtime failures 1. The commands are
// in cmd/cli/: capture, the log commands, the kernel commands.
import { Command } from "commander";
import { CaptureError } from "./capture";
import { InputError } from "../log/reader";
import { OutputError, UsageError } from "../output/outputs";
import { versionText } from "../log/version";
import { addCaptureCommand } from "./cli/capture-command";
import { addLogCommands } from "./cli/log-commands";
import { addKernelCommands } from "./cli/kernel-commands";

export function buildProgram(run: { exitCode: number }): Command {
  const program = new Command("modtrace")
    .description("Trace kernel-module activity: every module load, unload and load attempt.")
    // Not commander's .version(): the text names the libraries in the shim, read only when asked.
    .option("-V, --version", "print the version and the libbpf, libelf and zlib built in")
    .on("option:version", () => {
      process.stdout.write(versionText());
      process.exit(0);
    })
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  addCaptureCommand(program, run);
  addLogCommands(program, run);
  addKernelCommands(program, run);
  return program;
}

async function main() {
  const run = { exitCode: 0 };
  try {
    await buildProgram(run).parseAsync(process.argv);
  } catch (e: any) {
    if (e?.code?.startsWith?.("commander.")) {
      // commander already printed the message; help and version are not errors.
      const quiet = ["commander.helpDisplayed", "commander.version", "commander.help"];
      process.exit(quiet.includes(e.code) ? 0 : 2);
    }
    if (e instanceof UsageError) {
      // The shape commander gives its own usage errors.
      process.stderr.write(`error: ${e.message}\n(run with --help for usage)\n`);
      process.exit(2);
    }
    if (e instanceof CaptureError || e instanceof OutputError || e instanceof InputError) {
      process.stderr.write(`modtrace: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  process.exit(run.exitCode);
}

await main();
