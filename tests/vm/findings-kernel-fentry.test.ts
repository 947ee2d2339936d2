// The kernel-state findings scenario (findings-kernel.ts) with --attach fentry.
import { findingsKernelSuite } from "./findings-kernel";

findingsKernelSuite("fentry");
