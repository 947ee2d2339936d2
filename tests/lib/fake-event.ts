// An event with just the fields the kernel watches read, for their unit tests.
import type { EventView } from "../../cmd/findings/event-view";

export interface FakeEvent {
  eventName: string;
  timestamp: bigint;
  module?: string;
  strArg?: string;
  callId?: bigint;
  ret?: number;
}

export const fakeEvent = (e: FakeEvent): EventView => ({ ret: 0, ...e }) as unknown as EventView;
