// The compiled binary's entry point: it settles the runtime's own options,
// then runs the command line (main.ts).
//
// JavaScriptCore takes its options from BUN_JSC_* environment variables, once,
// before any of our code runs, and a compiled binary cannot carry them: it sees
// only its user's environment. So a binary started without them executes
// itself again (execve: same pid, same arguments and descriptors) with them
// added. That costs one extra start of the runtime: some 20 ms, as this file
// imports next to nothing.
//
// useWasmOSR=0: JavaScriptCore's on-stack replacement into optimised
// WebAssembly crashes Bun intermittently on Linux x86-64 (SIGILL / SIGSEGV in
// a long wasm loop called straight from JS while a background thread tiers it
// up: oven-sh/bun#26366, WebKit bug 289009). The decoder's decode/span/tally
// are such loops; under QEMU they killed 2-4 captures in 100 and an offline
// read (tests/vm/crash-hunt.ts). The loops still reach the optimising tier at
// their next call, so only the first long call of each runs slower.
//
// useFFICallInDFG=0, useFFIDirectCall=0, useFFIICStub=0: the optimising
// tiers' inlined calls into bun:ffi functions, new in Bun 1.4 (oven-sh/bun
// PR #35246; a fixed out-of-bounds pointer read in them, PR #39829). With
// wasm OSR alone off, 1 capture in 100 under QEMU still aborted (raw mode,
// "panic(main thread): abort() called"); the ring drain is such a call,
// made for every batch. Each call then goes through the generic FFI
// trampoline: a cost per batch, not per event.
//
// Later finding (tests/vm/run.ts, DEFAULT_ACCEL): the crashes followed QEMU's
// multi-threaded TCG, not these options. With one TCG thread and the
// runtime's defaults (all four on) 60 captures and 60 reads ran clean, where
// multi-threaded TCG had crashed 2-4 in 100; none was ever seen on real
// hardware. The options stay as a cheap guard against the two upstream bugs
// named above, which are real on any machine.
//
// A variable the user set already is left as it is (crash-hunt.ts sets
// BUN_JSC_useWasmOSR=1 to show the crash still happens without the fix).
import { CLOSED_STDOUT_ENV, standardOutputClosed } from "../output/closed-stdout";
import { entryPoint } from "../loader/entry-point";

const RUNTIME_OPTIONS: Record<string, string> = {
  BUN_JSC_useWasmOSR: "0",
  BUN_JSC_useFFICallInDFG: "0",
  BUN_JSC_useFFIDirectCall: "0",
  BUN_JSC_useFFIICStub: "0",
};

const missing = Object.keys(RUNTIME_OPTIONS).filter((k) => process.env[k] === undefined);
if (missing.length > 0 && process.platform === "linux") {
  const env = { ...process.env };
  for (const k of missing) env[k] = RUNTIME_OPTIONS[k];
  if (standardOutputClosed()) env[CLOSED_STDOUT_ENV] = "1";
  try {
    process.execve!(process.execPath, [process.execPath, ...process.argv.slice(2)], env);
  } catch (e: any) {
    process.stderr.write(`modtrace: warning: could not restart with the runtime's safe options (${e?.message ?? e}); running without them\n`);
  }
}

// The program proper is another of the binary's entry points (the Makefile
// names them), imported by a name the bundler does not follow: bundled into
// this file, its modules' imports (crypto, streams, the FFI) would all be
// loaded before the lines above run, in the process about to be replaced,
// which cost some 60 ms a start.
await import(entryPoint("cmd/main.ts"));
