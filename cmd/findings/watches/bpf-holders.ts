// Which processes hold a BPF program: its loader while that one runs, or
// whoever it handed the program to. The kernel's program info has the uid
// that loaded it but no process; a process holds a program through a file
// descriptor (the program's own, or a link's), and /proc/PID/fdinfo/FD
// names the program's id for both, as bpftool's "pids" column reads it.
//
// What it cannot see: a program no process holds (pinned in bpffs, or kept
// attached by the kernel after its loader left: a link pinned, a legacy
// attachment through a perf event or a tc filter), and a holder in another
// pid namespace is named by its pid in this /proc only.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export type Holder = {
  pid: number;
  comm: string;
  /** Its executable, where /proc still shows it. */
  exe?: string;
};

// The anon inodes behind BPF objects (fs/anon_inodes.c names): programs, links.
const BPF_FD = /^anon_inode:(bpf-prog|bpf_link)$/;

const readText = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/** Program id -> the processes holding it, by one walk of /proc. Processes
 * and descriptors that go away during the walk are passed over. */
export function bpfHolders(proc = "/proc"): Map<number, Holder[]> {
  const held = new Map<number, Holder[]>();
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((p) => /^\d+$/.test(p)).sort((a, b) => Number(a) - Number(b));
  } catch {
    return held;
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
  return held;
}

/** How a finding says who holds a program. */
export function describeHolders(holders: Holder[]): string {
  if (!holders.length) return "held by no process (pinned in bpffs, or left attached by a loader that is gone)";
  return `held by ${holders.map((h) => `pid ${h.pid} (${h.comm}${h.exe ? `, ${h.exe}` : ""})`).join(", ")}`;
}
