import pkg from "../package.json";
import { builtWith } from "../loader/native";

export const VERSION: string = pkg.version;

/** What --version prints: the release, and the libraries built into this binary. */
export function versionText(): string {
  return `modtrace ${VERSION}\nbuilt with ${builtWith()}\n`;
}
