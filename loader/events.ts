// The events modtrace can capture, as the CLI offers them, and where each
// argument sits in a record (for rebuilding records from a log). The decoder
// writes the same names; tests/unit/decoder-fixture.test.ts and the read
// round trip hold the two together.
import * as layout from "../decoder/assembly/generated/layout";

/** Where in struct mt_record an argument's value lives. */
export type ArgSource = "args0" | "args1" | "args2" | "strArg" | "strFile" | "fileDev" | "fileIno";

export interface ArgInfo {
  name: string;
  from: ArgSource;
}

export interface EventInfo {
  name: string;
  id: number; // enum mt_event
  args: ArgInfo[];
  hooks: string;
  about: string;
}

export const EVENTS: EventInfo[] = [
  {
    name: "init_module",
    id: layout.EVENT_INIT_MODULE,
    args: [
      { name: "module_image", from: "args0" },
      { name: "len", from: "args1" },
      { name: "param_values", from: "strArg" },
    ],
    hooks: "raw_syscalls sys_enter/sys_exit",
    about: "load a module from an image in the caller's memory",
  },
  {
    name: "finit_module",
    id: layout.EVENT_FINIT_MODULE,
    args: [
      { name: "fd", from: "args0" },
      { name: "param_values", from: "strArg" },
      { name: "flags", from: "args2" },
      { name: "pathname", from: "strFile" },
      { name: "dev", from: "fileDev" },
      { name: "inode", from: "fileIno" },
    ],
    hooks: "raw_syscalls sys_enter/sys_exit",
    about: "load a module from a file descriptor (what modprobe and insmod use)",
  },
  {
    name: "delete_module",
    id: layout.EVENT_DELETE_MODULE,
    args: [
      { name: "name", from: "strArg" },
      { name: "flags", from: "args1" },
    ],
    hooks: "raw_syscalls sys_enter/sys_exit",
    about: "unload a module by name",
  },
];

export function eventByName(name: string): EventInfo | undefined {
  return EVENTS.find((e) => e.name === name);
}
