// An event with just the fields the kernel watches read, for their unit tests.
import type { EventView } from "../../record/event-view";

export interface FakeEvent {
  eventName: string;
  timestamp: bigint;
  module?: string;
  strArg?: string;
  callId?: bigint;
  ret?: number;
  /** args[i] of the record (module_load: its code base and size). */
  args?: bigint[];
}

export const fakeEvent = (e: FakeEvent): EventView => ({ ret: 0, arg: (i: number) => e.args?.[i] ?? 0n, ...e }) as unknown as EventView;
