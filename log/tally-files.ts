// `stats`' reading of its files: on one core for a few small files; for a
// fleet's, the later files (half the bytes) in a Worker on the second core,
// whose counts are merged after the main thread's own as if one thread had
// read every file in order (Tally.merge). A second heap costs some 50 MiB,
// so only sets of at least WORKER_FROM_BYTES get one.
import { readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import wasmPath from "../build/decoder.wasm" with { type: "file" };
import { Decoder } from "../decoder/host";
import { Tally, type TallyHalf } from "./tally";
import { OfflineProgress } from "./progress";
import type { EventFilter } from "./filter";
import type { TallyWork } from "./tally-worker";
import { entryPoint } from "../loader/entry-point";

const WORKER_FROM_BYTES = 32 << 20;

/** Where the later files begin: the first file past half the bytes; files.length for none. */
function laterFrom(files: string[]): number {
  const sizes = files.map((f) => statSync(f).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (files.length < 2 || total < WORKER_FROM_BYTES) return files.length;
  let bytes = 0;
  for (let i = 0; i < files.length - 1; i++) if ((bytes += sizes[i]) >= total / 2) return i + 1;
  return files.length - 1;
}

/** A Worker reading the later files: started once it runs (its start needs
 * this thread's event loop, which the reading here then keeps busy), done
 * with their counts, or undefined (said on stderr) when it could not give
 * them. */
function tallyInWorker(work: TallyWork): { started: Promise<void>; done: Promise<TallyHalf | undefined> } {
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const done = new Promise<TallyHalf | undefined>((resolve) => {
    const failed = (why: string) => {
      process.stderr.write(`modtrace: stats: the second core could not read ${work.files.length} files (${why}); reading them here\n`);
      started();
      resolve(undefined);
    };
    let worker: Worker;
    try {
      worker = new Worker(entryPoint("log/tally-worker.ts"));
    } catch (e: any) {
      return failed(e?.message ?? String(e));
    }
    worker.onmessage = (m: MessageEvent<TallyHalf | "started">) => {
      if (m.data === "started") return started();
      worker.terminate();
      resolve(m.data);
    };
    worker.onerror = (e: ErrorEvent) => {
      worker.terminate();
      failed(e.message);
    };
    worker.postMessage(work);
  });
  return { started: running, done };
}

/** Every file's counts, in the files' order. */
export async function tallyFiles(files: string[], filter: EventFilter, rebuild: boolean, threads: number): Promise<Tally> {
  const tally = new Tally(filter, rebuild ? await Decoder.load(readFileSync(wasmPath)) : undefined);
  // One core to run on (a container's CPU set, a small VM): a Worker would only share it.
  const cut = threads > 1 && availableParallelism() > 1 ? laterFrom(files) : files.length;
  const later = files.slice(cut);
  const inWorker = later.length ? tallyInWorker({ files: later, filter, rebuild }) : undefined;
  await inWorker?.started;
  // Over all the files: this thread's share shows as its part of them, and
  // the later files, if they are read here after all, show where they lie.
  const progress = OfflineProgress.start("stats", files);
  for (const file of files.slice(0, cut)) tally.readFile(file, progress);
  if (inWorker) {
    progress?.step(`the last ${later.length} files, read on the other core`);
    const half = await inWorker.done;
    if (!half || !tally.merge(half)) for (const file of later) tally.readFile(file, progress);
  }
  progress?.end();
  return tally;
}
