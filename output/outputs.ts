// The -o/--output sinks: where each format's bytes go.
import { closeSync, fsyncSync, mkdirSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { standardOutputClosed } from "./closed-stdout";
import { OutputFileError, openOutputFile } from "./output-file";

export type Format = "text" | "json" | "cbor" | "raw" | "rows" | "captures" | "findings" | "parquet";
export const FORMATS: Format[] = ["text", "json", "cbor", "raw", "rows", "captures", "findings", "parquet"];
/** Made by `modtrace read` from logs, not by a live capture: they need a
 * log's header and trailer (captures, and the file findings rows name) or a
 * whole file's rows (parquet). */
export const READ_ONLY_FORMATS: Format[] = ["captures", "findings", "parquet"];

export interface OutputSpec {
  format: Format;
  path?: string; // absent: standard output
  overwrite?: boolean; // --overwrite: an existing file at path is replaced, not refused
}

/** --color: auto is a terminal on standard output, unless NO_COLOR is set (no-color.org). */
export type ColourChoice = "auto" | "always" | "never";
export const COLOUR_CHOICES: ColourChoice[] = ["auto", "always", "never"];

export function colourWanted(spec: OutputSpec, when: ColourChoice): boolean {
  if (when !== "auto") return when === "always";
  return !spec.path && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

export class UsageError extends Error {}
export class OutputError extends Error {}
/** EPIPE: whoever read the output (`| head`) closed it. */
export class ReaderGoneError extends OutputError {}

/** For the commands that are filters (read, findings): a reader that went
 * away is a normal end, as it is for cat, so exit 0 and say nothing. A live
 * capture still stops with an error: what it had not written is lost. */
export async function quietWhenReaderGoes(work: () => number | Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof ReaderGoneError) return 0;
    throw e;
  }
}

export function parseOutput(spec: string): OutputSpec {
  const colon = spec.indexOf(":");
  const format = (colon < 0 ? spec : spec.slice(0, colon)) as Format;
  const path = colon < 0 ? undefined : spec.slice(colon + 1);
  if (!FORMATS.includes(format))
    throw new UsageError(`unknown output format '${format}' in '-o ${spec}': use one of ${FORMATS.join(", ")}, optionally with :PATH`);
  if (path === "")
    throw new UsageError(format === "parquet" ? `'-o ${spec}' has an empty path: write parquet:DIR (one file per log goes there)` : `'-o ${spec}' has an empty path: write ${format}:PATH, or ${format} alone for standard output`);
  return { format, path };
}

/** Binary bytes would garble a terminal: capture, read and findings refuse them alike. */
export function checkBinaryToTerminal(specs: OutputSpec[], stdoutIsTerminal: boolean) {
  const binary = specs.find((s) => !s.path && (s.format === "cbor" || s.format === "raw" || s.format === "parquet"));
  if (binary && stdoutIsTerminal)
    throw new UsageError(`${binary.format} is binary and standard output is a terminal: write it to a file with -o ${binary.format}:PATH, or pipe it`);
}

export function checkOutputs(specs: OutputSpec[], stdoutIsTerminal: boolean) {
  const readOnly = specs.find((s) => READ_ONLY_FORMATS.includes(s.format));
  if (readOnly)
    throw new UsageError(`${readOnly.format} is made from logs: capture with -o cbor:PATH, then run modtrace read PATH -o ${readOnly.format}${readOnly.format === "parquet" ? ":DIR" : ""}`);
  const toStdout = specs.filter((s) => !s.path);
  if (toStdout.length > 1)
    throw new UsageError(`only one output can go to standard output, got ${toStdout.map((s) => s.format).join(" and ")}: give the others a :PATH`);
  checkBinaryToTerminal(specs, stdoutIsTerminal);
  const paths = specs.filter((s) => s.path).map((s) => s.path);
  if (new Set(paths).size !== paths.length) throw new UsageError("two outputs name the same path");
}

export function checkStandardOutput(format: Format) {
  if (standardOutputClosed())
    throw new OutputError(`cannot write ${format} to standard output: it is closed; give the output a path (-o ${format}:PATH) or leave standard output open`);
}

/** A file system error in words, not Node's "ENOENT: no such file or directory, open '…'". */
export function fsReason(e: any): string {
  const words: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "not permitted",
    EROFS: "the file system is read-only",
    ENOTDIR: "a part of the path is a file, not a directory",
    // mkdir -p where the directory's own name is taken by a file.
    EEXIST: "a part of the path is a file, not a directory",
    ENOSPC: "the disk is full",
    EISDIR: "it is a directory",
  };
  return words[e?.code] ?? e?.message ?? String(e);
}

/** The one rule for every output path: missing directories are made (mode
 * 0700), those named as the output (cbor:DIR/, parquet:DIR) and those a
 * file's path goes through alike. */
export function makeDirectory(dir: string, output: string) {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e: any) {
    throw new OutputError(`cannot create the directory ${dir} for ${output}: ${fsReason(e)}; create it yourself or choose another path`);
  }
}

/** Text to standard output, all of it before the process exits:
 * process.stdout queues what a pipe cannot take yet, and exit drops the
 * queue (stats --json of a fleet into a pipe kept its first 128 KiB). A
 * reader that went away throws ReaderGoneError. */
export function printOut(text: string) {
  Sink.standardOutput().write(Buffer.from(text));
}

/** One destination. Writes are synchronous and complete, or throw. */
export class Sink {
  private constructor(readonly spec: OutputSpec, private fd: number) {}

  static open(spec: OutputSpec): Sink {
    if (!spec.path) {
      checkStandardOutput(spec.format);
      return new Sink(spec, 1);
    }
    // A root tool must not be tricked by what others planted at the output
    // path or in its directory (output-file.ts); logs are private to their owner.
    makeDirectory(dirname(spec.path), `${spec.format} output ${spec.path}`);
    try {
      return new Sink(spec, openOutputFile(spec.path, { overwrite: spec.overwrite }));
    } catch (e: any) {
      const why = e instanceof OutputFileError ? e.message : e.code === "ELOOP" ? "it is a symbolic link, which modtrace will not follow" : fsReason(e);
      throw new OutputError(`cannot open ${spec.format} output ${spec.path}: ${why}`);
    }
  }

  /** Standard output as it is, whatever its format (printOut). */
  static standardOutput(): Sink {
    return new Sink({ format: "text" }, 1);
  }

  get name() {
    return this.spec.path ?? "standard output";
  }

  write(bytes: Uint8Array) {
    let off = 0;
    while (off < bytes.length) {
      try {
        off += writeSync(this.fd, bytes, off, bytes.length - off);
      } catch (e: any) {
        // Standard output may be a non-blocking pipe: a full one is back-pressure.
        if (e.code === "EAGAIN") {
          Bun.sleepSync(1);
          continue;
        }
        const why = e.code === "ENOSPC" ? "the disk is full" : e.code === "EPIPE" ? "the reader went away" : e.message;
        const Failure = e.code === "EPIPE" ? ReaderGoneError : OutputError;
        throw new Failure(`writing ${this.spec.format} to ${this.name} failed: ${why}`, { cause: e });
      }
    }
  }

  close() {
    if (this.fd > 2) {
      try {
        fsyncSync(this.fd);
      } catch (e: any) {
        // A device or pipe given as the path (/dev/null, a FIFO) has nothing to sync.
        if (e.code !== "EINVAL" && e.code !== "EROFS") throw e;
      }
      closeSync(this.fd);
    }
    this.fd = -1;
  }
}
