// Programs cross the FFI as their index in the table the build generated
// from catalogue/programs.ts for the shim and for this side alike.
import { PROGRAM_NAMES } from "./generated/programs";

const IDS = new Map(PROGRAM_NAMES.map((name, id) => [name, id]));

export class UnknownProgramError extends Error {}

/** The shim's number for a program; a name it does not know is a build from
 * sources that disagree, never something to skip. */
export function programId(name: string): number {
  const id = IDS.get(name);
  if (id === undefined) throw new UnknownProgramError(`the shim's program table has no ${name}: this modtrace was built from sources that disagree`);
  return id;
}
