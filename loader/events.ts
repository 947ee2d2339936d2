// The events modtrace can capture, as the CLI offers them. The decoder writes
// the same argument names; tests/unit/catalog.test.ts holds the two together.
import * as layout from "../decoder/assembly/generated/layout";

export interface EventInfo {
  name: string;
  id: number; // enum mt_event
  args: string[];
  hooks: string;
  about: string;
}

export const EVENTS: EventInfo[] = [
  {
    name: "init_module",
    id: layout.EVENT_INIT_MODULE,
    args: ["module_image", "len", "param_values"],
    hooks: "raw_syscalls sys_enter/sys_exit",
    about: "load a module from an image in the caller's memory",
  },
  {
    name: "finit_module",
    id: layout.EVENT_FINIT_MODULE,
    args: ["fd", "param_values", "flags", "pathname", "dev", "inode"],
    hooks: "raw_syscalls sys_enter/sys_exit",
    about: "load a module from a file descriptor (what modprobe and insmod use)",
  },
  {
    name: "delete_module",
    id: layout.EVENT_DELETE_MODULE,
    args: ["name", "flags"],
    hooks: "raw_syscalls sys_enter/sys_exit",
    about: "unload a module by name",
  },
];

export function eventByName(name: string): EventInfo | undefined {
  return EVENTS.find((e) => e.name === name);
}
