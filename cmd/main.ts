#!/usr/bin/env bun
// modtrace's command line. commander parses it (cliffy, the card's choice,
// is Deno-only); usage errors exit 2, runtime failures 1.
import { Command, InvalidArgumentError, Option } from "commander";
import { readFileSync } from "node:fs";
import { EVENTS, eventByName, type EventInfo } from "../catalogue/events";
import { modesFor } from "../catalogue/programs";
import { hookLabel } from "../loader/hooks";
import { capture, CaptureError } from "./capture";
import { doctor } from "./doctor";
import { read } from "./read";
import { stats } from "./stats";
import { InputError } from "./log/reader";
import type { ContainerFilter, EventFilter } from "./log/filter";
import { checkBinaryToTerminal, checkOutputs, COLOUR_CHOICES, OutputError, parseOutput, quietWhenReaderGoes, UsageError, type OutputSpec } from "./outputs";
import { versionText } from "./version";
import { uidOf } from "./user-ids";
import * as layout from "../decoder/assembly/generated/layout";
import { ConfigError, findingsConfig, type FindingsConfig } from "./findings/config";
import { SEVERITIES } from "./findings/finding";
import { ruleIds } from "./findings/engine";
import { WATCH_RULES } from "./findings/live";
import { MODULE_RULES } from "./scan/module-checks";

function collect<T>(parse: (v: string) => T) {
  return (value: string, previous: T[] = []) => [...previous, parse(value)];
}

function nonNegativeInt(what: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${what} must be a whole number, got '${v}'`);
    if (!Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${what} is too large (at most ${Number.MAX_SAFE_INTEGER}), got '${v}'`);
    return Number(v);
  };
}

// The kernel's uid_t is 32 bits, and (uid_t)-1 means "no uid".
const MAX_UID = 0xfffffffe;

/** --uid: a number or a local user's name. */
function userId(v: string): number {
  if (!/^\d+$/.test(v)) {
    const uid = uidOf(v);
    if (uid === undefined) throw new InvalidArgumentError(`unknown user '${v}': not in /etc/passwd; give the numeric uid instead`);
    return uid;
  }
  const uid = Number(v);
  if (uid > MAX_UID) throw new InvalidArgumentError(`--uid is too large (at most ${MAX_UID}), got '${v}'`);
  return uid;
}

function positiveInt(what: string) {
  return (v: string) => {
    const n = nonNegativeInt(what)(v);
    if (n === 0) throw new InvalidArgumentError(`${what} must be at least 1, got '${v}' (leave it out to capture until stopped)`);
    return n;
  };
}

function positiveNumber(what: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a number above 0, got '${v}'`);
    return n;
  };
}

/** Seconds, 0 allowed (off), fractions too; at most a day. */
function nonNegativeSeconds(what: string) {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < 0 || n > 86400) throw new InvalidArgumentError(`${what} must be a number of seconds from 0 (off) to 86400, got '${v}'`);
    return n;
  };
}

function eventList(v: string): EventInfo[] {
  const names = v.split(",").filter((name) => name.trim());
  if (!names.length) throw new InvalidArgumentError(`no events given: name one or more of ${EVENTS.map((x) => x.name).join(", ")}, or leave -e out for all`);
  return names.map((name) => {
    const e = eventByName(name.trim());
    if (!e) throw new InvalidArgumentError(`unknown event '${name}': known events are ${EVENTS.map((x) => x.name).join(", ")} (see 'modtrace events')`);
    return e;
  });
}

/** --overwrite, for every command that writes files. There is no --append:
 * a CBOR log is one capture's sequence, header to trailer. */
function overwriteOption() {
  return new Option("--overwrite", "replace an output file that exists (default: refuse it and leave it as it is)");
}

/** The outputs with --overwrite's answer in each. */
function withOverwrite(spec: OutputSpec, o: { overwrite?: boolean }): OutputSpec {
  return { ...spec, overwrite: Boolean(o.overwrite) };
}

function outputSpec(v: string): OutputSpec {
  try {
    return parseOutput(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function ringBytes(v: string): number {
  const mib = Number(v);
  if (!Number.isInteger(mib) || mib < 1 || mib > 1024 || (mib & (mib - 1)) !== 0)
    throw new InvalidArgumentError(`--buffer-size is in MiB and must be a power of two from 1 to 1024, got '${v}'`);
  return mib << 20;
}

function imageRingBytes(v: string): number {
  const mib = Number(v);
  if (!Number.isInteger(mib) || mib < 1 || mib > 1024 || (mib & (mib - 1)) !== 0)
    throw new InvalidArgumentError(`--image-buffer-size is in MiB and must be a power of two from 1 to 1024, got '${v}'`);
  return mib << 20;
}

function byteSize(v: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(v);
  const scale: Record<string, number> = { "": 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 };
  if (!m || Number(m[1]) === 0) throw new InvalidArgumentError(`a size is a whole number of bytes above 0, optionally with K, M or G, got '${v}'`);
  return Number(m[1]) * scale[m[2].toUpperCase()];
}

/** --since/--until to the nanosecond: events carry ns, and a bound given
 * to the microsecond (as text rows show times) must cut exactly there. */
function instant(what: string) {
  const digits = (frac = "") => BigInt(frac.slice(0, 9).padEnd(9, "0"));
  return (v: string): bigint => {
    const bad = () => new InvalidArgumentError(`${what} takes a date and time (2026-11-22T14:05:00Z, fractions of a second to the ns) or seconds since the epoch, got '${v}'`);
    const epoch = /^(\d+)(?:\.(\d+))?$/.exec(v);
    if (epoch) return BigInt(epoch[1]) * 1_000_000_000n + digits(epoch[2]);
    // Date.parse keeps milliseconds only: the whole seconds from it, the fraction from the text.
    const frac = /T\d{2}:\d{2}:\d{2}\.(\d+)/.exec(v)?.[1];
    const ms = Date.parse(frac === undefined ? v : v.replace(`.${frac}`, ""));
    if (!Number.isFinite(ms)) throw bad();
    return BigInt(ms) * 1_000_000n + digits(frac);
  };
}

/** The command line as the user typed it: in a compiled binary, argv[1] is
 * Bun's internal path (/$bunfs/root/modtrace), not the program's. */
function commandLine(): string[] {
  try {
    return readFileSync("/proc/self/cmdline", "utf8").split("\0").slice(0, -1);
  } catch {
    return process.argv.slice(1);
  }
}

const MAX_ANCESTORS = layout.ANCESTORS;

function ancestorCount(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > MAX_ANCESTORS) throw new InvalidArgumentError(`--ancestors is a whole number from 0 to ${MAX_ANCESTORS}, got '${v}'`);
  return n;
}

/** --container [ID] and --not-container, or a usage error when both are given. */
function containerFilter(o: any): ContainerFilter | undefined {
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
function attachOption(): Option {
  return new Option("--attach <mode>", "how syscall events are hooked: auto picks the cheapest this kernel has")
    .choices(["auto", "fentry", "kprobe", "raw"]).default("auto").env("MODTRACE_ATTACH");
}

function ruleList(v: string): string[] {
  const known = [...ruleIds(WATCH_RULES), ...MODULE_RULES];
  return v.split(",").filter(Boolean).map((id) => {
    if (!known.includes(id.trim())) throw new InvalidArgumentError(`unknown rule '${id}': known rules are ${known.join(", ")} (see 'modtrace rules')`);
    return id.trim();
  });
}

/** The rules' data with --findings-config, --module-tool and --disable-rule. */
function configFrom(o: any): FindingsConfig {
  try {
    return findingsConfig({ file: o.findingsConfig, moduleTools: o.moduleTool, disabledRules: (o.disableRule ?? []).flat() });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

/** The options both capture and `findings` take. */
function ruleOptions(cmd: Command): Command {
  return colourOption(cmd)
    .addOption(new Option("--fail-on <severity>", "exit 3 when a finding at or above this severity was made").choices(SEVERITIES))
    .addOption(new Option("--disable-rule <ids>", "turn these rules off (comma-separated, repeatable; see modtrace rules)").argParser(collect(ruleList)))
    .addOption(new Option("--module-tool <path>", "one more executable that loads modules as a matter of course (repeatable)").argParser(collect(String)))
    .addOption(new Option("--findings-config <file>", "JSON that adds to the rules' lists and replaces severities (the shape modtrace rules --json prints)"));
}

/** --color for the commands that print FINDING lines (capture, read, findings). */
function colourOption(cmd: Command): Command {
  return cmd.addOption(new Option("--color <when>", "colour FINDING lines: auto (on a terminal, unless NO_COLOR is set), always or never").choices(COLOUR_CHOICES).default("auto"));
}

/** --wide for the commands that print text rows (capture, read). */
function wideOption(cmd: Command): Command {
  return cmd.option("--wide", "text rows on a terminal whole, not cut to its width (files and pipes always get them whole)");
}

function filterFrom(o: any): EventFilter {
  return {
    events: o.events ? new Set((o.events as EventInfo[][]).flat().map((e) => e.name)) : undefined,
    pids: o.pid ?? [],
    comms: o.comm ?? [],
    sinceNs: o.since,
    untilNs: o.until,
    container: containerFilter(o),
  };
}

function containerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--container [id]", "only calls from containers (by cgroup or by their own pid and mount namespaces), or from the container whose id starts with ID"))
    .addOption(new Option("--not-container", "only calls from outside containers"));
}

function addLogFilters(cmd: Command): Command {
  return containerOptions(cmd)
    .addOption(new Option("-e, --events <list>", "only these events (comma-separated)").argParser(collect(eventList)))
    .addOption(new Option("--pid <pid>", "only this host pid").argParser(collect(nonNegativeInt("--pid"))))
    .addOption(new Option("--comm <name>", "only this command name").argParser(collect(String)))
    .addOption(new Option("--since <time>", "only events at or after this time (ISO 8601 or epoch seconds)").argParser(instant("--since")))
    .addOption(new Option("--until <time>", "only events at or before this time").argParser(instant("--until")));
}

const FINDINGS_HELP = `
Findings are verdicts on module activity, written among the events in every
format (text: a FINDING line; JSON and CBOR: an object whose eventName is the
rule's id, with severity, MITRE ATT&CK techniques, a description and the
evidence: the events' names, timestamps and callIds). A capture judges live;
\`modtrace findings LOGS\` replays logs through the same rules and gives the
same findings, except those of the rules that look at the running kernel
or at the capture itself
(${WATCH_RULES.join(", ").replace(/(.{1,70})(, |$)/g, (_, line, sep) => (sep ? `${line},\n` : line))}),
which it passes on as recorded (all of a --findings-only log's findings).
modtrace rules lists the rules; README.md explains each one.

Examples:
  sudo modtrace --findings-only --fail-on high --duration 600   # a CI or incident check
  modtrace findings /var/log/modtrace/*.cbor -o json | jq 'select(.severity == "high")'
  modtrace findings logs/*.cbor --module-tool /opt/vendor/bin/loadmod --disable-rule probing`;

const SCAN_HELP = `
What it checks, in about three seconds (root; reads /proc/kallsyms,
/proc/kcore, /proc/vmallocinfo, tracefs, /sys/module and /var/lib/dpkg):
  hooks      every sys_call_table entry and every jump of x64_sys_call and
             ia32_sys_call against the handler the kernel recorded at boot
             (syscall_hooked), ftrace callbacks in modules (ftrace_hooked),
             the autoload helper (modprobe_path_changed), kprobes on syscall
             handlers and listing functions, with whose handler each runs
             (kprobe_on_sensitive; debugfs, kcore), BPF programs that write
             user memory, override returns or send signals, with the
             processes holding them and where they are attached
             (bpf_dangerous_helper)
  hiding     a module in the module list and not in /sys/module, or the
             reverse; module memory neither accounts for (a module hidden
             from both; kernels up to 6.3); one name listed twice
             (hidden_module, seen by scans 2 s apart); taint bits no listed
             module carries (taint_unexplained)
  modules    each loaded module's file (modules.dep) hashed and compared with
             its package's record (module_file_changed), its srcversion with
             the file's (module_differs_from_file), no file at all
             (module_without_file), no package (module_without_package)
The text lists every module (size, address, taints, signature, file check)
and every BPF program (type, name, uid, holders, attachments), then the
findings; --json
gives the same for tools (modules, bpfPrograms, findings). Exit 0 when nothing at or
above --fail-on (high) was found, 3 when something was, 1 when a check failed.
A capture's first scan makes the same hook and hiding checks, and goes on
watching. README.md, "Responding to a host", says what it cannot see.

Examples:
  sudo modtrace scan                        # a person at a suspect host
  sudo modtrace scan --json | jq '.findings[] | {eventName, severity, description}'
  sudo modtrace scan --fail-on medium && echo clean`;

const EXAMPLES = `
Examples:
  sudo modtrace                                   live text on the terminal
  sudo modtrace -o cbor:/var/log/mod.cbor -o text log to a file and watch
  sudo modtrace -o json -e finit_module,delete_module --duration 60
  sudo modtrace --comm insmod --count 1           stop after the first event
  sudo modtrace --attach raw                      force the raw_syscalls hook

Attach modes (--attach) for the syscall events (init_module, finit_module,
delete_module, kexec_load, kexec_file_load):
  fentry  fentry/fexit on the syscall functions: costs nothing to other syscalls
  kprobe  ksyscall kprobes on the same functions
  raw     raw_syscalls: every kernel has it, every syscall on the host pays
  auto    the first of those this kernel supports (the default)
When a syscall's arguments, and the names and parameters in the caller's
memory, are read (--read-at):
  exit    as the call returns: one program per call (raw mode: every other
          syscall on the host pays for one program, sys_exit, not two)
  entry   as the call starts, sent at its exit: sees the caller's memory
          before a racing thread can rewrite it while the kernel works
  auto    entry for fentry and kprobe (only module syscalls pay), exit for
          raw (the default)
Either way the kernel's own name for the module is in moduleName and in
module_load. Timestamps are taken where the record is read.
Kernel-side events use the module tracepoints, and fentry/fexit (kprobes
with --attach kprobe, or where fentry is missing) on do_init_module. Events
this kernel cannot hook are reported and skipped; \`modtrace doctor\` shows
what each event would get here.

Output formats (-o FORMAT[:PATH], repeatable; standard output when no PATH):
  text  aligned columns: TIME(UTC) UID COMM PID TID RET EVENT ARGS
  json  one object per line, Tracee's field names
  cbor  RFC 8742 CBOR sequence: header item, one map per event, trailer item
  raw   the kernel's records (and module image chunks) exactly as captured,
        for bug reports and decoder tests
  rows  one flat JSON object per event, a typed column per field, for DuckDB,
        ClickHouse (FORMAT JSONEachRow) and jq (see modtrace schema)
Files are created with mode 0600, exclusively and never through a symbolic
link; missing directories on the way are made, mode 0700. An existing file
at PATH is refused (and left intact) unless --overwrite is given; there is
no --append. FIFOs, sockets and directories at PATH are refused, and so is a
directory others can write into (owned by neither root nor you, or group- or
world-writable).
Rotation (cbor files): --rotate-size 100M starts a new file at that size,
named by time and part (-o cbor:/var/log/mod.cbor writes mod-<time>-0001.cbor,
mod-<time>-0002.cbor, … beside it; a directory as PATH names them
modtrace-<time>-0001.cbor, … there);
--rotate-count 10 keeps the newest 10, and every older file that holds
evidence (a successful load or unload, or a finding of medium or above,
which no unprivileged caller can raise), saying so on stderr: a flood of
anyone's failed calls cannot rotate the real loads away. Each file is a
whole log.
Filters (--pid, --uid, --comm) run in the kernel; each can be repeated.

Sealing (cbor logs): every file keeps a running SHA-256 over its items and,
every --seal-interval (10 s), a seal item with that chain, the capture's
health (events, losses by cause, tamperings seen) and an HMAC under a key
that then evolves (the old one is wiped); the
rotation trailers and the final trailer are seals too. The first key is
printed once on stderr (or written to --seal-key-file): take it off the host.
\`modtrace verify --key KEY LOGS\` then says whether the logs are as written,
or where they were cut, changed, forged or a file of the set is missing;
someone who gets root later can rewrite at most what came after the last
seal before they arrived (README.md, Tamper-evident logs).

Heartbeat: every --heartbeat seconds (10) modtrace makes, from its own
process, one init_module, finit_module, delete_module and kexec_file_load
call that the kernel refuses at once (nothing is read, loaded or staged),
and checks that each hook reported it; a hook that stays silent was
detached, switched off (kprobes disabled in debugfs) or bypassed, and that
is a monitor_tampered finding (critical), within two heartbeats. The calls
never reach any output; an audit rule on these syscalls sees them (failed,
from modtrace): --heartbeat 0 turns them off.

Module identity: init_module, finit_module and the module_load they cause
carry sha256 and size, the hash of the exact bytes the kernel was handed
(finit_module: the file as the kernel read it; init_module: its copy of the
caller's memory, so a .ko.xz that kmod decompressed hashes as \`xz -dc\`).
The kernel streams each image through a ring of its own (--image-buffer-size,
which must hold the images loaded within a tenth of a second; the largest
stock modules are some 20 MiB); an image that does not fit gets no hash but
sha256Error saying how far it got: a partial image never gives a hash.
--save-modules DIR keeps each distinct image once as DIR/<sha256>.ko (mode
0600), up to --save-limit bytes in all. \`modtrace doctor\` says whether this
kernel has a hook for the images (fentry or kprobes on the security hooks
that are handed them); without one, sha256Error says so.

--container and --not-container judge each event as its output is decoded:
a container is a cgroup laid out by Docker, containerd/CRI, CRI-O, Podman or
systemd-nspawn, or a process in its own pid and mount namespaces.

Every event carries its caller's context: up to --ancestors ancestors (host
pid, comm, executable, start time, read in the kernel at the call), the
audit login uid and session, the effective uid, the effective capabilities
(CAP_SYS_MODULE by name) and user namespace, the cgroup path and the
container it names (id, runtime, Kubernetes pod uid). Text shows it after
the arguments: | chain=sshd→bash→sudo→modprobe login=1000 sess=3 euid=0
+CAP_SYS_MODULE container=docker:4f1c0d7a9e2b
${FINDINGS_HELP.replace("\nExamples:", "\nFindings examples:")}`;

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

  ruleOptions(wideOption(program
    .command("capture", { isDefault: true })
    .description("attach to the kernel and record module events until stopped (the default command)")
    .addOption(new Option("-o, --output <format[:path]>", "output format and destination (text, json, cbor, raw, rows; captures, findings and parquet come from logs, with read)").argParser(collect(outputSpec)))
    .addOption(overwriteOption())
    .addOption(new Option("-e, --events <list>", "comma-separated events to capture (default: all)").argParser(collect(eventList)))
    .addOption(new Option("--pid <pid>", "only processes with this host pid").argParser(collect(nonNegativeInt("--pid"))))
    .addOption(new Option("--uid <user>", "only processes with this real uid, given as a number or a user name").argParser(collect(userId)))
    .addOption(new Option("--comm <name>", "only processes with this command name (first 15 bytes)").argParser(collect(String)))
    .addOption(new Option("--container [id]", "only calls from containers (by cgroup, or by their own pid and mount namespaces), or from the container whose id starts with ID"))
    .addOption(new Option("--not-container", "only calls from outside containers"))
    .addOption(new Option("--ancestors <n>", `how many ancestors each event records, 0 to ${MAX_ANCESTORS}`).default(MAX_ANCESTORS).argParser(ancestorCount))
    .addOption(new Option("--duration <sec>", "stop after this many seconds").argParser(positiveNumber("--duration")))
    .addOption(new Option("--count <n>", "stop after this many events (at least 1)").argParser(positiveInt("--count")))
    .addOption(attachOption())
    .addOption(new Option("--read-at <when>", "when a syscall's arguments and the caller's memory are read: at its exit, or at its entry too (see below)").choices(["auto", "entry", "exit"]).default("auto"))
    .addOption(new Option("--buffer-size <MiB>", "size of the kernel ring for failed attempts (the flood-prone ones), a power of two; loads and unloads that changed the kernel have their own 4 MiB ring").default(16 << 20, "16").argParser(ringBytes))
    .addOption(new Option("--image-buffer-size <MiB>", "size of the kernel ring that carries module images to be hashed, a power of two").default(32 << 20, "32").argParser(imageRingBytes))
    .addOption(new Option("--no-hash", "do not hash module images (nothing streams them; sha256Error says so)"))
    .addOption(new Option("--save-modules <dir>", "keep each distinct module image as DIR/<sha256>.ko (made mode 0700 if missing)"))
    .addOption(new Option("--save-limit <bytes>", "stop saving module images past this many bytes in all (K, M, G suffixes)").default(1 << 30, "1G").argParser(byteSize))
    .addOption(new Option("--rotate-size <bytes>", "start a new cbor file at this size (K, M, G suffixes)").argParser(byteSize))
    .addOption(new Option("--rotate-count <n>", "keep this many cbor files, and the older ones that hold evidence").argParser(nonNegativeInt("--rotate-count")))
    .addOption(new Option("--no-findings", "do not judge the events (no findings rules, no kernel scans)"))
    .addOption(new Option("--findings-only", "write findings but not the events they rest on"))
    .addOption(new Option("--scan-interval <sec>", "seconds between looks at the kernel's module list and syscall dispatch (also right after each module load)").default(2).argParser(positiveNumber("--scan-interval")))
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
        findings: o.findings === false ? undefined : { config: configFrom(o), only: Boolean(o.findingsOnly), failOn: o.failOn, scanIntervalSec: o.scanInterval },
        sealIntervalSec: o.sealInterval,
        sealKeyFile: o.sealKeyFile,
        heartbeatSec: o.heartbeat,
        quiet: o.quiet === true,
        status: o.status === true,
      });
    });

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
      const { findingsCommand } = await import("./findings/command");
      run.exitCode = await quietWhenReaderGoes(() => findingsCommand({ files, output: withOverwrite(o.output, o), config: configFrom(o), failOn: o.failOn, colour: o.color }));
    });

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
      const { scanCommand } = await import("./scan/command");
      run.exitCode = await scanCommand({ json: Boolean(o.json), failOn: o.failOn, config: configFrom(o) });
    });

  program
    .command("rules")
    .description("list the findings rules, their severities and lists (the defaults, plus --findings-config)")
    .option("--json", "the whole configuration as JSON: a template for --findings-config")
    .addOption(new Option("--findings-config <file>", "show the configuration with this file added"))
    .action((o) => {
      const config = configFrom(o);
      if (o.json) return void process.stdout.write(JSON.stringify(config, null, 2) + "\n");
      const ids = [...ruleIds(WATCH_RULES), ...MODULE_RULES];
      const severities = (id: string) => Object.entries(config.severity).filter(([k]) => k === id || k.startsWith(`${id}.`)).map(([k, v]) => `${k.slice(id.length + 1) || "base"} ${v}`);
      for (const id of ids) process.stdout.write(`${id.padEnd(28)} ${severities(id).join(", ")}${id === "monitor_tampered" ? "  (live only: looks at the capture itself)" : WATCH_RULES.includes(id) ? "  (live only: looks at the running kernel)" : (MODULE_RULES as readonly string[]).includes(id) ? "  (modtrace scan only)" : ""}${config.disabledRules.includes(id) ? "  DISABLED" : ""}\n`);
      process.stdout.write("\nWhat each rule catches, why, and its known false positives: README.md, Findings.\n");
    });

  addLogFilters(wideOption(colourOption(
    program
      .command("read")
      .description("print the events of cbor logs as capture printed them, in the order the files are given (a rotated set's names sort by time: logs/mod-*.cbor); needs no privileges")
      .argument("<files...>", "cbor logs written by -o cbor:PATH")
      .addOption(new Option("-o, --output <format[:path]>", "text, json, cbor, rows, captures, findings or parquet:DIR").default({ format: "text" }, "text").argParser(outputSpec))
      .addOption(overwriteOption()),
  )))
    .addHelpText("after", `
Formats for analysis engines (columns: modtrace schema; cookbook: docs/ANALYSIS.md):
  rows          one JSON object per event, one typed column per field (nulls
                where an event lacks it), host, kernel and bootTime from the
                log's header on every row: FORMAT JSONEachRow for ClickHouse,
                read_json for DuckDB
  captures      one JSON object per log file: its header and trailer (what was
                attached and how, exact loss counts), the captures table
  findings      one JSON object per finding the logs hold (rule, severity,
                techniques, evidence callIds, module, caller), the findings
                table: the verdicts, without the events
  parquet:DIR   DIR/<host>/<log>.parquet per log file with the rows' columns
                and the log's header and trailer in its metadata, and
                DIR/captures.parquet and DIR/findings.parquet, the rows of
                every log converted into DIR over every run (a log converted
                again replaces its rows)

Damaged input is read as far as it goes: a cut-off tail or a corrupt item is
reported on stderr with its byte offset, reading resumes at the next whole
item, and the exit status is 1 when anything was skipped.

Examples:
  modtrace read /var/log/mod.cbor -o json | jq .
  modtrace read /var/log/modtrace/*.cbor -e finit_module --since 2026-11-22T00:00:00Z
  modtrace read logs/*.cbor -o rows | clickhouse-client -q 'INSERT INTO modtrace_events FORMAT JSONEachRow'
  modtrace read logs/*.cbor -o parquet:fleet/ && duckdb -c "SELECT host, count(*) FROM 'fleet/*/*.parquet' GROUP BY host"
  modtrace read logs/*.cbor -o findings | clickhouse-client -q 'INSERT INTO modtrace_findings FORMAT JSONEachRow'`)
    .action(async (files: string[], o) => {
      const format = o.output.format;
      if (format === "raw") program.error("error: read writes text, json, cbor, rows, captures, findings or parquet (raw records come only from a live capture)", { exitCode: 2 });
      if (format === "parquet" && !o.output.path) program.error("error: parquet needs a directory: -o parquet:DIR (one file per log goes there)", { exitCode: 2 });
      checkBinaryToTerminal([o.output], Boolean(process.stdout.isTTY));
      if (format === "parquet" || format === "captures" || format === "findings" || format === "rows") {
        // Loaded only here: capture's start-up and memory need none of it.
        const { readTables } = await import("./rows/read-tables");
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
      .option("--json", "one JSON object instead of tables"),
  ).action((files: string[], o) => {
    run.exitCode = stats({ files, json: Boolean(o.json), filter: filterFrom(o) });
  });

  program
    .command("verify")
    .description("check that sealed cbor logs are as the capture wrote them, or say where they were cut, changed or forged; needs no privileges")
    .argument("<files...>", "cbor logs written by -o cbor:PATH (a rotated set in any order)")
    .option("--key <hex>", "the seal key the capture printed (its first key, 64 hex digits)")
    .option("--key-file <path>", "read the seal key from this file (as --seal-key-file wrote it)")
    .addOption(new Option("-o, --output <format[:path]>", "text or json").default({ format: "text" }, "text").argParser(outputSpec))
    .addHelpText("after", `
Every file is read item by item and its running SHA-256 recomputed; each
seal must hold the chain of the bytes before it, count the items before it,
come in order (seq, key epoch) and, with the key, carry the HMAC of its own
bytes under the key of its epoch (derived from the first key by hashing
forward). The trailer is the last seal. A set of rotated files is put in
order by their headers, each of which names the file before it and that
file's final chain; a part missing between them, or after the last one
given, is reported unless --rotate-count deleted it (the headers record that).

Without the key the chains are still checked, which catches damage and
naive edits, but root can recompute a chain: only the key proves the log.

Exit status: 0 intact, 1 not intact (cut, changed, forged, wrong key, a
file missing, or a log without seals), 2 a file or the key cannot be read.

Examples:
  modtrace verify --key 3f9a…c1 /var/log/mod.cbor
  modtrace verify --key-file /mnt/keys/host1.key logs/*.cbor -o json | jq .intact`)
    .action(async (files: string[], o) => {
      if (!["text", "json"].includes(o.output.format)) program.error("error: verify writes text or json", { exitCode: 2 });
      if (o.key !== undefined && o.keyFile !== undefined) program.error("error: give the key once: --key or --key-file", { exitCode: 2 });
      const { parseKey } = await import("./log/seal");
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
      const { verify } = await import("./verify");
      run.exitCode = await quietWhenReaderGoes(() => verify({ files, key, output: o.output }));
    });

  program
    .command("schema")
    .description("print the row schema of -o rows, captures, findings and parquet: as JSON, or as an engine's DDL")
    .addOption(new Option("--sql <engine>", "print CREATE TABLE statements instead").choices(["duckdb", "clickhouse"]))
    .addOption(new Option("--cluster <name>", "clickhouse: a table per shard (NAME_local) and a Distributed table over this cluster"))
    .addOption(new Option("--database <name>", "clickhouse: the database of the tables").default("default"))
    .addHelpText("after", `
The schema is append-only: a newer modtrace only adds columns at the end of a
table (schemaVersion says which version wrote a row), so older tables keep
loading newer rows (ClickHouse: --input_format_skip_unknown_fields=1; DuckDB:
the printed *_rows macros read exactly the table's columns) and newer tables
load older rows, with nulls in the columns added since.

Examples:
  modtrace schema | jq '.tables.modtrace_events[] | {name, type}'
  modtrace schema --sql duckdb | duckdb fleet.db
  modtrace schema --sql clickhouse --cluster fleet   # then see docs/ANALYSIS.md`)
    .action(async (o) => {
      if (o.cluster && o.sql !== "clickhouse") program.error("error: --cluster applies to --sql clickhouse", { exitCode: 2 });
      const { schemaCommand } = await import("./schema");
      process.stdout.write(schemaCommand(o));
    });

  program
    .command("events")
    .description("list the events modtrace can capture, with their arguments and hooks")
    .action(() => {
      for (const e of EVENTS) {
        const hooks = modesFor(e.kind).map((m) => hookLabel(e, m));
        process.stdout.write(`${e.name.padEnd(15)} ${e.about}\n${"".padEnd(15)} args: ${e.args.map((a) => a.name).join(", ")}\n${"".padEnd(15)} hooks, preferred first: ${hooks.join(" → ")}\n`);
      }
    });

  program
    .command("doctor")
    .description("report what this kernel supports and whether capture can run, without attaching anything")
    .option("--json", "the same as one JSON object (checks with ok true, false or null for cannot tell; the attach plan), for scripts and tests")
    .addOption(attachOption())
    .action((o) => {
      run.exitCode = doctor(Boolean(o.json), o.attach);
    });

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
