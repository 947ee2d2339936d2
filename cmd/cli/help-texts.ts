// The longer --help texts: what each command does beyond its options, with
// examples. Kept apart from the commands so each file reads as one thing.
import { WATCH_RULES } from "../../findings/live";

export const FINDINGS_HELP = `
Findings are verdicts on module activity, written among the events in every
format (text: a FINDING line; JSON and CBOR: an object whose eventName is the
rule's id, with severity, MITRE ATT&CK techniques, a description and the
evidence: the events' names, timestamps and callIds). A capture judges live;
\`modtrace findings LOGS\` replays logs through the same rules and gives the
same findings, except those of the rules that look at the running kernel
or at the capture itself
(${WATCH_RULES.join(", ").replace(/(.{1,70})(, |$)/g, (_: string, line: string, sep: string) => (sep ? `${line},\n` : line))}),
which it passes on as recorded (all of a --findings-only log's findings).
modtrace rules lists the rules; README.md explains each one.

Examples:
  sudo modtrace --findings-only --fail-on high --duration 600   # a CI or incident check
  modtrace findings /var/log/modtrace/*.cbor -o json | jq 'select(.severity == "high")'
  modtrace findings logs/*.cbor --module-tool /opt/vendor/bin/loadmod --disable-rule probing`;

export const SCAN_HELP = `
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
findings; --json gives the same for tools (modules, bpfPrograms, findings),
with what each check cost (timings: a capture repeats the look every
--scan-interval). Exit 0 when nothing at or above --fail-on (high) was
found, 3 when something was, 1 when a check failed.
A capture's first scan makes the same hook and hiding checks, and goes on
watching. README.md, "Responding to a host", says what it cannot see.

Examples:
  sudo modtrace scan                        # a person at a suspect host
  sudo modtrace scan --json | jq '.findings[] | {eventName, severity, description}'
  sudo modtrace scan --fail-on medium && echo clean`;

export const EXAMPLES = `
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

export const READ_HELP = `
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
  modtrace read logs/*.cbor -o findings | clickhouse-client -q 'INSERT INTO modtrace_findings FORMAT JSONEachRow'`;

export const VERIFY_HELP = `
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
  modtrace verify --key-file /mnt/keys/host1.key logs/*.cbor -o json | jq .intact`;

export const SCHEMA_HELP = `
The schema is append-only: a newer modtrace only adds columns at the end of a
table (schemaVersion says which version wrote a row), so older tables keep
loading newer rows (ClickHouse: --input_format_skip_unknown_fields=1; DuckDB:
the printed *_rows macros read exactly the table's columns) and newer tables
load older rows, with nulls in the columns added since.

Examples:
  modtrace schema | jq '.tables.modtrace_events[] | {name, type}'
  modtrace schema --sql duckdb | duckdb fleet.db
  modtrace schema --sql clickhouse --cluster fleet   # then see docs/ANALYSIS.md`;
