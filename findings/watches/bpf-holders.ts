// Which processes hold a BPF program: its loader while that one runs, or
// whoever it handed the program to. The kernel's program info has the uid
// that loaded it but no process; a process holds a program through a file
// descriptor (the program's own, or a link's), and /proc/PID/fdinfo/FD
// names the program's id for both, as bpftool's "pids" column reads it.
//
// A process that holds a perf event with a program on it (a kprobe, uprobe
// or tracepoint attached the older way) holds that program too; the same
// walk asks the kernel where each such event is (bpf-attachments.ts).
//
// What it cannot see: a program no process holds (pinned in bpffs, or kept
// attached by the kernel after its loader left: a link pinned, a tc
// filter), and a holder in another pid namespace is named by its pid in
// this /proc only.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { Attachment } from "./bpf-attachments";

export type Holder = {
  pid: number;
  comm: string;
  /** Its executable, where /proc still shows it. */
  exe?: string;
};

// The anon inodes behind BPF objects (fs/anon_inodes.c names): programs, links.
const BPF_FD = /^anon_inode:(bpf-prog|bpf_link)$/;
const PERF_FD = "anon_inode:[perf_event]";

const readText = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/** Where the program on a perf event descriptor is attached (the kernel's
 * answer for pid's fd), or undefined. */
export type PerfQuery = (pid: number, fd: number) => { program: number; attachment: Attachment } | undefined;

export interface Holding {
  /** Program id -> the processes holding it. */
  heldBy: Map<number, Holder[]>;
  /** Program id -> the perf events it is attached to. */
  perf: Map<number, Attachment[]>;
}

/** Who holds each program, by one walk of /proc; with perf, the perf events
 * programs are attached to as well. Processes and descriptors that go away
 * during the walk are passed over. */
export function bpfHolding(proc = "/proc", perf?: PerfQuery): Holding {
  const held = new Map<number, Holder[]>();
  const perfs = new Map<number, Attachment[]>();
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((p) => /^\d+$/.test(p)).sort((a, b) => Number(a) - Number(b));
  } catch {
    return { heldBy: held, perf: perfs };
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(join(proc, pid, "fd"));
    } catch {
      continue;
    }
    const ids = new Set<number>();
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(join(proc, pid, "fd", fd));
      } catch {
        continue;
      }
      if (perf && target === PERF_FD) {
        const on = perf(Number(pid), Number(fd));
        if (!on) continue;
        ids.add(on.program);
        perfs.set(on.program, [...(perfs.get(on.program) ?? []), on.attachment]);
        continue;
      }
      if (!BPF_FD.test(target)) continue;
      const id = /^prog_id:\s*(\d+)$/m.exec(readText(join(proc, pid, "fdinfo", fd)) ?? "")?.[1];
      if (id) ids.add(Number(id));
    }
    if (!ids.size) continue;
    let exe: string | undefined;
    try {
      exe = readlinkSync(join(proc, pid, "exe"));
    } catch {
      // a kernel thread, or gone
    }
    const holder: Holder = { pid: Number(pid), comm: (readText(join(proc, pid, "comm")) ?? "").trim(), ...(exe !== undefined && { exe }) };
    for (const id of ids) held.set(id, [...(held.get(id) ?? []), holder]);
  }
  return { heldBy: held, perf: perfs };
}

/** How a finding says who holds a program. */
export function describeHolders(holders: Holder[]): string {
  if (!holders.length) return "held by no process (pinned in bpffs, or left attached by a loader that is gone)";
  return `held by ${holders.map((h) => `pid ${h.pid} (${h.comm}${h.exe ? `, ${h.exe}` : ""})`).join(", ")}`;
}
