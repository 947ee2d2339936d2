// `./build.sh bench`: every benchmark, each printing ratios against a baseline
// measured in the same run (the machines here are noisy). Needs root, and
// bpftrace for the peer figures and clickhouse-server for the analysis ones
// (build.sh installs them).
import { cpus, release, totalmem } from "node:os";
import { benchAnalysis } from "./analysis";
import { benchCapture } from "./capture";
import { benchDecoder } from "./decoder";
import { benchFindings } from "./findings";
import { benchKernelCost } from "./kernel-cost";
import { benchImageHash } from "./image-hash";
import { benchOffline } from "./offline";

console.log(`modtrace benchmarks on ${release()}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${new Date().toISOString()}`);
console.log();
for (const l of await benchDecoder()) console.log(l);
console.log();
for (const l of await benchFindings()) console.log(l);
console.log();
for (const l of await benchCapture()) console.log(l);
console.log();
for (const l of await benchKernelCost()) console.log(l);
console.log();
for (const l of await benchAnalysis()) console.log(l);
console.log();
for (const l of await benchImageHash()) console.log(l);
console.log();
for (const l of await benchOffline()) console.log(l);
