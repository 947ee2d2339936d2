// Tampering with a running capture, as root on the same host would. What the
// kernel side reads as settings (the attached-events mask, the filter sets)
// is frozen once the capture runs: a write through bpf() is refused, and the
// capture goes on recording. The maps are found through the capture's own
// descriptors (/proc/PID/fdinfo), the writer is Debian's bpftool.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { Capture, jsonLines, trigger } from "./harness";

/** The ids and names of the BPF maps a process holds. */
function mapsOf(pid: number): { id: number; name: string; frozen: boolean }[] {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const id = /^map_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"))?.[1];
      if (id) ids.add(Number(id));
    } catch {
      // a descriptor closed meanwhile
    }
  }
  return [...ids].map((id) => {
    const m = JSON.parse(Bun.spawnSync(["bpftool", "-j", "map", "show", "id", String(id)]).stdout.toString());
    return { id, name: m.name, frozen: m.frozen === 1 };
  });
}

test("a root writer cannot zero the attached-events mask: refused, and the capture records on", async () => {
  const c = await Capture.start(["--attach", "raw", "--comm", "mt-trigger", "-o", "json"]);
  try {
    const maps = mapsOf(c.pid);
    const attached = maps.find((m) => m.name.endsWith(".data.attached") || m.name.endsWith("attached"));
    expect(attached).toBeDefined();
    // The settings and the filter sets are frozen; the rings and counters are not (the kernel writes them).
    expect(maps.filter((m) => m.frozen).map((m) => m.name).sort()).toEqual(expect.arrayContaining([attached!.name]));
    const zero = Bun.spawnSync(["bpftool", "map", "update", "id", String(attached!.id), "key", "hex", "00", "00", "00", "00", "value", "hex", "00", "00", "00", "00", "00", "00", "00", "00"], { stderr: "pipe" });
    expect(zero.exitCode).not.toBe(0);
    expect(zero.stderr.toString()).toContain("Operation not permitted");
    const [call] = trigger("uid", "65534");
    await c.stdoutHas(`"hostProcessId":${call.pid},`);
  } finally {
    const done = await c.stop();
    expect(done.exitCode).toBe(0);
    expect(done.stderr).not.toContain("could not be frozen");
    expect(jsonLines(done.stdout).filter((e) => e.eventName === "delete_module").length).toBe(1);
  }
});
