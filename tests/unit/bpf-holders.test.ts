// Who holds a BPF program, from a /proc tree built as the kernel lays it out:
// fd symlinks to the anon inodes of programs and links, and their fdinfo.
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bpfHolding, describeHolders } from "../../findings/watches/bpf-holders";

function proc(processes: Record<string, { comm: string; exe?: string; fds: Record<string, [string, string]> }>): string {
  const root = mkdtempSync(join(tmpdir(), "modtrace-proc-"));
  for (const [pid, p] of Object.entries(processes)) {
    mkdirSync(join(root, pid, "fd"), { recursive: true });
    mkdirSync(join(root, pid, "fdinfo"));
    writeFileSync(join(root, pid, "comm"), `${p.comm}\n`);
    if (p.exe) symlinkSync(p.exe, join(root, pid, "exe"));
    for (const [fd, [target, info]] of Object.entries(p.fds)) {
      symlinkSync(target, join(root, pid, "fd", fd));
      writeFileSync(join(root, pid, "fdinfo", fd), info);
    }
  }
  mkdirSync(join(root, "self"));
  return root;
}

test("programs held through their own fd or a link's; other fds and processes without any are passed over", () => {
  const root = proc({
    "100": { comm: "loader", exe: "/usr/bin/loader", fds: { "3": ["anon_inode:bpf-prog", "pos:\t0\nflags:\t02000002\nprog_type:\t5\nprog_id:\t41\n"], "4": ["anon_inode:bpf_link", "link_type:\ttracing\nlink_id:\t7\nprog_tag:\tx\nprog_id:\t42\n"] } },
    "200": { comm: "agent", fds: { "5": ["anon_inode:bpf-prog", "prog_type:\t2\nprog_id:\t41\n"], "6": ["anon_inode:bpf-map", "map_id:\t9\n"], "7": ["/etc/passwd", "pos:\t0\n"] } },
    "300": { comm: "idle", exe: "/bin/sleep", fds: { "0": ["/dev/null", "pos:\t0\n"] } },
  });
  const held = bpfHolding(root).heldBy;
  expect([...held.keys()].sort()).toEqual([41, 42]);
  expect(held.get(41)).toEqual([{ pid: 100, comm: "loader", exe: "/usr/bin/loader" }, { pid: 200, comm: "agent" }]);
  expect(held.get(42)).toEqual([{ pid: 100, comm: "loader", exe: "/usr/bin/loader" }]);
  expect(describeHolders(held.get(42)!)).toBe("held by pid 100 (loader, /usr/bin/loader)");
  expect(describeHolders([])).toContain("held by no process");
});

test("no /proc: nobody is said to hold anything", () => {
  expect(bpfHolding("/nonexistent/proc").heldBy.size).toBe(0);
});

test("a perf event with a program on it: its holder holds the program, and the kernel's answer says where it is attached", () => {
  const root = proc({
    "400": { comm: "rootkit", fds: { "3": ["anon_inode:[perf_event]", "pos:\t0\n"], "4": ["anon_inode:[perf_event]", "pos:\t0\n"] } },
  });
  const asked: string[] = [];
  const holding = bpfHolding(root, (pid, fd) => {
    asked.push(`${pid}/${fd}`);
    return fd === 3 ? { program: 43, attachment: { kind: "kprobe", target: "filldir64+0x0" } } : undefined; // fd 4: a perf event with no program
  });
  expect(asked).toEqual(["400/3", "400/4"]);
  expect(holding.heldBy.get(43)).toEqual([{ pid: 400, comm: "rootkit" }]);
  expect(holding.perf.get(43)).toEqual([{ kind: "kprobe", target: "filldir64+0x0" }]);
  expect(holding.heldBy.size).toBe(1);
});
