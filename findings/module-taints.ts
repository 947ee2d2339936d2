// The TAINT_* bits a module's load sets, with the letter /proc/modules shows
// for each and what a module carrying it is: the catalogue's taint table
// (catalogue/taints.ts, which the decoder's names come from too), those of
// its entries a module sets. These are the ones the findings rules reason about.
import { TAINTS } from "../catalogue/taints";

export interface ModuleTaint {
  bit: number;
  letter: string;
  what: string;
}

export const MODULE_TAINTS: ModuleTaint[] = TAINTS.filter((t) => t.module !== undefined).map((t) => ({ bit: t.bit, letter: t.letter, what: t.module! }));

export const hasTaint = (taints: bigint, t: ModuleTaint) => ((taints >> BigInt(t.bit)) & 1n) === 1n;
