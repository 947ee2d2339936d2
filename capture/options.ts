// What a capture is asked to do: the command line's answers (cmd/cli/capture-command.ts).
import type { EventInfo } from "../catalogue/events";
import type { ReadAtRequest } from "../loader/hooks";
import type { AttachRequest } from "../loader/attach-plan";
import type { Rotation } from "../log/cbor-log";
import type { ContainerFilter } from "../log/filter";
import type { ColourChoice, OutputSpec } from "../output/outputs";
import type { FindingsOptions } from "../findings/live";

export interface CaptureOptions {
  outputs: OutputSpec[];
  events: EventInfo[];
  pids: number[];
  uids: number[];
  comms: string[];
  durationSec?: number;
  count?: number;
  ringBytes: number;
  imageRingBytes: number;
  hashing: boolean;
  saveModules?: string;
  saveLimit: number;
  rotation: Rotation;
  attach: AttachRequest;
  readAt: ReadAtRequest;
  argv: string[];
  /** Ancestors each event records (--ancestors). */
  ancestors: number;
  /** --container / --not-container, applied as the decoder reads each batch. */
  container?: ContainerFilter;
  /** --color, for the FINDING lines of text outputs. */
  colour: ColourChoice;
  /** --wide: whole text rows on a terminal too. */
  wide?: boolean;
  /** --scan-interval: seconds between looks at the kernel's own state (the
   * findings' watches and the scan events). */
  scanIntervalSec: number;
  /** The findings rules, or undefined for --no-findings. */
  findings?: FindingsOptions;
  /** Seconds between the seals of cbor logs (--seal-interval). */
  sealIntervalSec: number;
  /** Where k0 goes instead of stderr (--seal-key-file). */
  sealKeyFile?: string;
  /** Seconds between heartbeat rounds (--heartbeat), 0 for none. */
  heartbeatSec: number;
  /** --quiet: only warnings and the seal key on stderr. */
  quiet?: boolean;
  /** --status: a live status line on a terminal's stderr. */
  status?: boolean;
}
