// Where one of the binary's entry points lies (the Makefile names them: the
// program, cmd/main.ts, and stats' Worker, log/tally-worker.ts), as a URL to
// import or start a Worker from. In the binary the embedded tree keeps each
// one's path from the repository's root under /$bunfs/root; from the
// sources it is that file. Imports no module: cmd/entry.ts uses it before
// the program is loaded.

/** The entry point at path (from the repository's root). */
export function entryPoint(path: string): string {
  return Bun.main.startsWith("/$bunfs/") ? `file:///$bunfs/root/${path}` : new URL(`../${path}`, import.meta.url).href;
}
