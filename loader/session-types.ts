// What a capture session is asked for and what it reports: the options, the
// events attached (and how), the rings and the kernel's loss counters.
import type { EventInfo } from "../catalogue/events";
import type { ReadAtRequest } from "./hooks";
import type { AttachRequest, Unavailable } from "./attach-plan";

export interface SessionOptions {
  events: EventInfo[];
  attach: AttachRequest;
  readAt: ReadAtRequest;
  pids: number[];
  uids: number[];
  comms: string[];
  ringBytes: number;
  /** Size of the image ring (module images in chunks). */
  imageRingBytes: number;
  /** Stream module images for hashing (off: --no-hash). */
  hashing: boolean;
  /** Ancestors each event records (--ancestors), at most layout.ANCESTORS. */
  ancestors?: number;
}

export interface AttachedEvent {
  event: EventInfo;
  hook: string; // e.g. "fentry/fexit", "tracepoint module:module_load"
  /** Why the modes tried before this hook failed at capture, when any did. */
  fellBack?: string;
}

export interface Attached {
  events: AttachedEvent[];
  unavailable: Unavailable[];
  /** The hook that streams module images (and why better ones failed), or why there is none. */
  images: { hook: string; fellBack?: string } | { why: string };
  /** The kernel-side settings (attached mask, filter sets) are frozen against any writer. */
  frozen?: boolean;
}

/** The rings by the shim's numbering (mt_ring_moved): priority, bulk, images. */
export const RING_NAMES = ["priority", "bulk", "images"] as const;

export interface RingMoved {
  ring: (typeof RING_NAMES)[number];
  bytes: number;
  moves: number;
}

export interface LossCounters {
  lostRingbuf: number; // the bulk ring (failed attempts) was full
  lostPriority: number; // the priority ring was full
  lostInflight: number;
  filtered: number;
  /** Calls whose tie to their kernel-side events was lost: the `calls` map was full. */
  callsUntracked: number;
}
