// The kernel-state findings scenario (findings-kernel.ts) with --attach kprobe.
import { findingsKernelSuite } from "./findings-kernel";

findingsKernelSuite("kprobe");
