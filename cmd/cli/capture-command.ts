// The capture command, modtrace's default: its options and their checks
// against each other, then capture() with what they say.
import { Command, Option } from "commander";
import { EVENTS, type EventInfo } from "../../catalogue/events";
import { capture } from "../capture";
import { checkOutputs, UsageError, type OutputSpec } from "../../output/outputs";
import { EXAMPLES } from "./help-texts";
import { attachOption, commandLine, configFrom, containerFilter, overwriteOption, processOptions, ruleOptions, wideOption, withOverwrite } from "./options";
import { ancestorCount, byteSize, collect, eventList, MAX_ANCESTORS, nonNegativeInt, nonNegativeSeconds, outputSpec, positiveInt, positiveNumber, ringMiB, userId } from "./values";

/** `modtrace [capture]`: attach and record until stopped. */
export function addCaptureCommand(program: Command, run: { exitCode: number }) {
  ruleOptions(wideOption(processOptions(program
    .command("capture", { isDefault: true })
    .description("attach to the kernel and record module events until stopped (the default command)")
    .addOption(new Option("-o, --output <format[:path]>", "output format and destination (text, json, cbor, raw, rows; captures, findings and parquet come from logs, with read)").argParser(collect(outputSpec)))
    .addOption(overwriteOption())
    .addOption(new Option("-e, --events <list>", "comma-separated events to capture (default: all)").argParser(collect(eventList))))
    .addOption(new Option("--uid <user>", "only processes with this real uid, given as a number or a user name").argParser(collect(userId)))
    .addOption(new Option("--ancestors <n>", `how many ancestors each event records, 0 to ${MAX_ANCESTORS}`).default(MAX_ANCESTORS).argParser(ancestorCount))
    .addOption(new Option("--duration <sec>", "stop after this many seconds").argParser(positiveNumber("--duration")))
    .addOption(new Option("--count <n>", "stop after this many events (at least 1)").argParser(positiveInt("--count")))
    .addOption(attachOption())
    .addOption(new Option("--read-at <when>", "when a syscall's arguments and the caller's memory are read: at its exit, or at its entry too (see below)").choices(["auto", "entry", "exit"]).default("auto"))
    .addOption(new Option("--buffer-size <MiB>", "size of the kernel ring for failed attempts (the flood-prone ones), a power of two; loads and unloads that changed the kernel have their own 4 MiB ring").default(16 << 20, "16").argParser(ringMiB("--buffer-size")))
    .addOption(new Option("--image-buffer-size <MiB>", "size of the kernel ring that carries module images to be hashed, a power of two").default(32 << 20, "32").argParser(ringMiB("--image-buffer-size")))
    .addOption(new Option("--no-hash", "do not hash module images (nothing streams them; sha256Error says so)"))
    .addOption(new Option("--save-modules <dir>", "keep each distinct module image as DIR/<sha256>.ko (made mode 0700 if missing)"))
    .addOption(new Option("--save-limit <bytes>", "stop saving module images past this many bytes in all (K, M, G suffixes)").default(1 << 30, "1G").argParser(byteSize))
    .addOption(new Option("--rotate-size <bytes>", "start a new cbor file at this size (K, M, G suffixes)").argParser(byteSize))
    .addOption(new Option("--rotate-count <n>", "keep this many cbor files, and the older ones that hold evidence").argParser(nonNegativeInt("--rotate-count")))
    .addOption(new Option("--no-findings", "do not judge the events (no findings rules, no kernel scans)"))
    .addOption(new Option("--findings-only", "write findings but not the events they rest on"))
    .addOption(new Option("--scan-interval <sec>", "seconds between looks at the kernel's module list, syscall dispatch and lists of hooks (also right after each module load); the hooks that came and went are scan events").default(2).argParser(positiveNumber("--scan-interval")))
    .addOption(new Option("--seal-interval <sec>", "seconds between the seals of cbor logs (see Sealing below)").default(10).argParser(positiveNumber("--seal-interval")))
    .addOption(new Option("--seal-key-file <path>", "write the cbor logs' seal key to this new file (mode 0600; e.g. on a remote share) instead of stderr"))
    .addOption(new Option("-q, --quiet", "on stderr, only warnings (tampering, losses) and the seal key; errors still end it with their message"))
    .addOption(new Option("--status", "a live status line on stderr when it is a terminal: time, events and their rate, losses, findings"))
    .addOption(new Option("--heartbeat <sec>", "seconds between checks that every module syscall hook still reports (see Heartbeat below); 0: none").default(10).argParser(nonNegativeSeconds("--heartbeat")))))
    .addHelpText("after", EXAMPLES)
    .action(async (o) => {
      const outputs: OutputSpec[] = (o.output ?? [{ format: "text" }]).map((s: OutputSpec) => withOverwrite(s, o));
      try {
        checkOutputs(outputs, Boolean(process.stdout.isTTY));
      } catch (e) {
        if (e instanceof UsageError) program.error(`error: ${e.message}`, { exitCode: 2 });
        throw e;
      }
      const cborFiles = outputs.filter((s) => s.format === "cbor" && s.path);
      if ((o.rotateSize !== undefined || o.rotateCount !== undefined) && !cborFiles.length)
        program.error("error: --rotate-size and --rotate-count apply to cbor files: add -o cbor:PATH", { exitCode: 2 });
      if (o.rotateCount === 0) program.error("error: --rotate-count must be at least 1", { exitCode: 2 });
      if (o.saveModules !== undefined && o.hash === false) program.error("error: --save-modules needs the images that --no-hash turns off", { exitCode: 2 });
      if (o.findings === false && (o.findingsOnly || o.failOn)) {
        const given = [o.findingsOnly && "--findings-only", o.failOn && "--fail-on"].filter(Boolean);
        program.error(`error: ${given.join(" and ")} need${given.length === 1 ? "s" : ""} the findings that --no-findings turns off`, { exitCode: 2 });
      }
      if (o.sealKeyFile !== undefined && !outputs.some((s) => s.format === "cbor"))
        program.error("error: --seal-key-file applies to cbor logs: add -o cbor:PATH", { exitCode: 2 });
      const events: EventInfo[] = o.events ? [...new Set((o.events as EventInfo[][]).flat())] : EVENTS;
      if (events.every((e) => e.kind === "scan"))
        program.error(`error: -e names only scan events (${events.map((e) => e.name).join(", ")}): a capture needs a hooked event beside them; for the kernel's hooks alone, modtrace scan`, { exitCode: 2 });
      run.exitCode = await capture({
        outputs,
        events,
        pids: o.pid ?? [],
        uids: o.uid ?? [],
        comms: o.comm ?? [],
        durationSec: o.duration,
        count: o.count,
        ringBytes: o.bufferSize,
        imageRingBytes: o.imageBufferSize,
        hashing: o.hash !== false,
        saveModules: o.saveModules,
        saveLimit: o.saveLimit,
        rotation: { sizeBytes: o.rotateSize, count: o.rotateCount },
        attach: o.attach,
        readAt: o.readAt,
        argv: commandLine(),
        ancestors: o.ancestors,
        container: containerFilter(o),
        colour: o.color,
        wide: o.wide === true,
        scanIntervalSec: o.scanInterval,
        findings: o.findings === false ? undefined : { config: configFrom(o), only: Boolean(o.findingsOnly), failOn: o.failOn, scanIntervalSec: o.scanInterval },
        sealIntervalSec: o.sealInterval,
        sealKeyFile: o.sealKeyFile,
        heartbeatSec: o.heartbeat,
        quiet: o.quiet === true,
        status: o.status === true,
      });
    });
}
