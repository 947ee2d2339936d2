// A capture's now and its intervals, on the boot clock, the one the kernel
// stamps its records with: root setting the wall clock back must not stop
// the kernel scans for as long as it stepped (a blinding no record shows),
// nor setting it forward close the findings' time windows early.
import { native } from "./native";

/** The boot clock now, in ns (CLOCK_BOOTTIME: never steps, counts suspend). */
const bootNs = (): bigint => BigInt(native().mt_boot_ns());

/** Something done every so often: due() until done(), then again an interval later. */
export interface Schedule {
  due(): boolean;
  done(): void;
}

export class CaptureClock {
  /** offsetNs: wall time minus the boot clock, measured once at the start
   * (the decoder's, which puts the records on the wall clock). */
  constructor(readonly offsetNs: bigint) {}

  /** The boot clock now: a record's timestamp as the kernel writes it. */
  bootNs(): bigint {
    return bootNs();
  }

  /** Now on the records' timeline: the boot clock plus the start's offset. */
  nowNs(): bigint {
    return bootNs() + this.offsetNs;
  }

  /** Due once, then every intervalSec after each done(), by the boot clock. */
  every(intervalSec: number): Schedule {
    let next = 0n;
    return {
      due: () => bootNs() >= next,
      done: () => {
        next = bootNs() + BigInt(Math.round(intervalSec * 1e9));
      },
    };
  }
}
