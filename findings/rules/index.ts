// The trace rules, in the order they run on each event.
import type { RuleUnit } from "../rule";
import { unusualLoadPath } from "./unusual-load-path";
import { imageFromMemory } from "./image-from-memory";
import { loaderNotModuleTool } from "./loader-not-module-tool";
import { untrustedModule } from "./untrusted-module";
import { containerCall } from "./container-call";
import { unloadChecks } from "./unload-checks";
import { probing } from "./probing";
import { hitAndRun } from "./hit-and-run";
import { nameFileMismatch } from "./name-file-mismatch";
import { rareAutoload } from "./rare-autoload";
import { fileSwapped } from "./file-swapped";
import { loadWithoutCall } from "./load-without-call";
import { untrustedInitFailed } from "./untrusted-init-failed";
import { loadUnhashed } from "./load-unhashed";
import { kernelStaged } from "./kernel-staged";
import { kernelRanProgram } from "./kernel-ran-program";

export const TRACE_RULES: RuleUnit[] = [
  unusualLoadPath, imageFromMemory, loaderNotModuleTool, untrustedModule, containerCall,
  unloadChecks, probing, hitAndRun, nameFileMismatch, rareAutoload, fileSwapped,
  loadWithoutCall, untrustedInitFailed, loadUnhashed, kernelStaged, kernelRanProgram,
];
