// --seal-key-file: k0 in a new file of its own, made as output files are.
import { closeSync, fsyncSync, writeSync } from "node:fs";
import { openOutputFile, OutputFileError } from "./output-file";
import { fsReason } from "./outputs";

export class KeyFileError extends Error {}

/** k0 for --seal-key-file: a new file (O_EXCL, mode 0600, never through a link), as output files are made. */
export function writeKeyFile(path: string, k0Hex: string) {
  let fd: number;
  try {
    fd = openOutputFile(path, { overwrite: false });
  } catch (e: any) {
    const why = e instanceof OutputFileError ? e.message : e.code === "ELOOP" ? "it is a symbolic link, which modtrace will not follow" : fsReason(e);
    throw new KeyFileError(`cannot create the seal key file ${path}: ${why}`);
  }
  try {
    writeSync(fd, `${k0Hex}\n`);
    fsyncSync(fd);
  } catch (e) {
    throw new KeyFileError(`cannot write the seal key file ${path}: ${fsReason(e)}`);
  } finally {
    closeSync(fd);
  }
}
