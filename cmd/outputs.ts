// The -o/--output sinks: where each format's bytes go.
import { closeSync, fsyncSync, writeSync } from "node:fs";
import { OutputFileError, openOutputFile } from "./output-file";

export type Format = "text" | "json" | "cbor" | "raw" | "rows" | "captures" | "parquet";
export const FORMATS: Format[] = ["text", "json", "cbor", "raw", "rows", "captures", "parquet"];
/** Made by `modtrace read` from logs, not by a live capture: they need a
 * log's header and trailer (captures) or a whole file's rows (parquet). */
export const READ_ONLY_FORMATS: Format[] = ["captures", "parquet"];

export interface OutputSpec {
  format: Format;
  path?: string; // absent: standard output
  overwrite?: boolean; // --overwrite: an existing file at path is replaced, not refused
}

export class UsageError extends Error {}
export class OutputError extends Error {}

export function parseOutput(spec: string): OutputSpec {
  const colon = spec.indexOf(":");
  const format = (colon < 0 ? spec : spec.slice(0, colon)) as Format;
  const path = colon < 0 ? undefined : spec.slice(colon + 1);
  if (!FORMATS.includes(format))
    throw new UsageError(`unknown output format '${format}' in '-o ${spec}': use one of ${FORMATS.join(", ")}, optionally with :PATH`);
  if (path === "") throw new UsageError(`'-o ${spec}' has an empty path: write ${format}:PATH, or ${format} alone for standard output`);
  return { format, path };
}

export function checkOutputs(specs: OutputSpec[], stdoutIsTerminal: boolean) {
  const readOnly = specs.find((s) => READ_ONLY_FORMATS.includes(s.format));
  if (readOnly)
    throw new UsageError(`${readOnly.format} is made from logs: capture with -o cbor:PATH, then run modtrace read PATH -o ${readOnly.format}${readOnly.format === "parquet" ? ":DIR" : ""}`);
  const toStdout = specs.filter((s) => !s.path);
  if (toStdout.length > 1)
    throw new UsageError(`only one output can go to standard output, got ${toStdout.map((s) => s.format).join(" and ")}: give the others a :PATH`);
  const binary = toStdout.find((s) => s.format === "cbor" || s.format === "raw");
  if (binary && stdoutIsTerminal)
    throw new UsageError(`${binary.format} is binary and standard output is a terminal: write it to a file with -o ${binary.format}:PATH, or pipe it`);
  const paths = specs.filter((s) => s.path).map((s) => s.path);
  if (new Set(paths).size !== paths.length) throw new UsageError("two outputs name the same path");
}

/** One destination. Writes are synchronous and complete, or throw. */
export class Sink {
  private constructor(readonly spec: OutputSpec, private fd: number) {}

  static open(spec: OutputSpec): Sink {
    if (!spec.path) return new Sink(spec, 1);
    // A root tool must not be tricked by what others planted at the output
    // path or in its directory (output-file.ts); logs are private to their owner.
    try {
      return new Sink(spec, openOutputFile(spec.path, { overwrite: spec.overwrite }));
    } catch (e: any) {
      const why = e instanceof OutputFileError ? e.message : e.code === "ELOOP" ? "it is a symbolic link, which modtrace will not follow" : e.message;
      throw new OutputError(`cannot open ${spec.format} output ${spec.path}: ${why}`);
    }
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
        throw new OutputError(`writing ${this.spec.format} to ${this.name} failed: ${why}`, { cause: e });
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
