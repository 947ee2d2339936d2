// The kernel-state findings scenario (findings-kernel.ts) with --attach raw.
import { findingsKernelSuite } from "./findings-kernel";

findingsKernelSuite("raw");
