// The vm tier, caller context: module calls from known places in a Debian 6.1
// guest (tests/vm/context-guest.sh) carry the ancestors, login identity,
// capabilities, namespaces and container the guest recorded before each
// call, from the shell and /proc, never from modtrace.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { layout } from "../../decoder/host";
import { expectAncestors } from "../lib/context-truth";
import { runModtrace } from "../lib/modtrace";
import { splitRecords } from "../lib/records";
import { guestScript, outputText, runInVm, vmCannotRun, type VmResult } from "./run";

const cannotRun = vmCannotRun();
if (cannotRun && process.env.CI !== "true") console.log(`vm tests skipped: ${cannotRun}`);

let r: VmResult;
let events: any[];
let scanEvents: any[];

const text = (name: string) => outputText(r, name);
const num = (name: string) => Number(text(name).trim());
/** "user:[4026532201]" → 4026532201 */
const nsInode = (name: string) => Number(/\[(\d+)\]/.exec(text(name))![1]);

/** ancestry.txt ("PID COMM START_TICKS EXE" per line, from a pid up) as the
 * truth expectAncestors() takes; an executable /proc would not show is absent. */
function walkOf(name: string) {
  return text(name).trim().split("\n").map((line) => {
    const [pid, comm, ticks, exe] = line.split(" ");
    return { pid: Number(pid), comm_hex: Buffer.from(comm).toString("hex"), start_ticks: Number(ticks), ...(exe && { exe_hex: Buffer.from(exe).toString("hex") }) };
  });
}

/** The one event of this kind whose ancestor at `depth` is pid. */
function eventFrom(eventName: string, depth: number, pid: number) {
  const found = events.filter((e) => e.eventName === eventName && e.ancestors[depth]?.hostProcessId === pid);
  if (found.length !== 1) throw new Error(`${found.length} ${eventName} events with ancestor ${depth} = pid ${pid}:\n${events.map((e) => JSON.stringify(e)).join("\n")}`);
  return found[0];
}

const EPERM = -1;
let findings: any[];

describe.skipIf(!!cannotRun && process.env.CI !== "true")("caller context in a Debian 6.1 VM", () => {
  beforeAll(async () => {
    if (cannotRun) throw new Error(`the vm tier cannot run here: ${cannotRun}`);
    r = await runInVm({ script: guestScript("context-guest.sh"), timeoutSec: 600 });
    if (r.exitCode !== 0) throw new Error(`the guest script exited ${r.exitCode}:\n${r.console}`);
    const all = text("all/events.json").trim().split("\n").map((l) => JSON.parse(l));
    // The calls and the kernel's events; the hooks that came and went (scan events) apart.
    events = all.filter((o) => o.finding !== true && o.hook !== "scan");
    scanEvents = all.filter((o) => o.finding !== true && o.hook === "scan");
    findings = all.filter((o) => o.finding === true);
  }, 660_000);

  test("the two captures started beside it are BPF programs arriving: bpf_program added for each one's programs, by uid 0, no process's event", () => {
    const arg = (e: any, name: string) => e.args.find((a: any) => a.name === name)?.value;
    const added = scanEvents.filter((e) => e.eventName === "bpf_program" && arg(e, "change") === "added");
    // Each capture has one call_usermodehelper program (its name cut to the kernel's 15 bytes).
    expect(new Set(added.filter((e) => arg(e, "prog_name") === "tp_call_usermod").map((e) => arg(e, "prog_id"))).size).toBe(2);
    for (const e of added) expect([e.hook, e.hostProcessId, arg(e, "prog_uid"), arg(e, "prog_helpers")]).toEqual(["scan", 0, 0, ""]);
    // The others stopped after this one: none of theirs is seen leaving.
    expect(scanEvents.filter((e) => arg(e, "change") === "removed" && arg(e, "prog_name") === "tp_call_usermod")).toEqual([]);
  });

  test("modtrace stopped cleanly", () => {
    for (const name of ["all", "docker-only", "host-only"]) expect(`${name} ${text(`${name}/modtrace.rc`).trim()}`).toBe(`${name} 0`);
  });

  test("modprobe through sh -c → su → sh: exactly the ancestors the guest's /proc walk recorded", () => {
    const walk = walkOf("chain-root/ancestry.txt");
    const su = num("chain-root/su.pid");
    expect(walk[0].pid).toBe(su);
    expect(walk[1].pid).toBe(num("chain-root/top.pid"));
    const e = eventFrom("finit_module", 0, su);
    expect(text("chain-root/command.rc").trim()).toBe("0");
    expect(e.returnValue).toBe(0);
    expect(e.processName).toBe("modprobe");
    expectAncestors(e, walk, 100);
    expect(e.ancestors.map((a: any) => a.processName).slice(0, 2)).toEqual(["sh", "sh"]);
    // busybox is every shell's executable: its path is in the record once.
    expect(e.ancestors[0].executable.path).toBe("/bin/busybox");
    expect(e.ancestors[1].executable.path).toBe("/bin/busybox");
    const rec = splitRecords(r.outputs["all/events.raw"]).find(
      (x) => x[layout.REC_OFF_EVENT] === layout.EVENT_FINIT_MODULE && x.readUInt32LE(layout.REC_OFF_HOST_PID) === e.hostProcessId,
    )!;
    const offset = (slot: number) => rec.readUInt16LE(layout.REC_OFF_STR_OFF + 2 * slot);
    expect(offset(layout.SLOT_ANCESTOR_EXE + 1)).toBe(offset(layout.SLOT_ANCESTOR_EXE));
    expect(rec.toString("latin1").split("/bin/busybox").length - 1).toBe(1);
    // The kernel-side events of the call carry the same context.
    const load = events.find((x) => x.eventName === "module_load" && x.callId === e.callId);
    expect(load.ancestors).toEqual(e.ancestors);
    expect(load.loginUserId).toBe(1000);
  });

  test("a login uid set through /proc/self/loginuid survives su, with its session; root's su keeps CAP_SYS_MODULE", () => {
    const e = eventFrom("finit_module", 0, num("chain-root/su.pid"));
    expect(e.loginUserId).toBe(1000);
    expect(e.sessionId).toBe(num("chain-root/session.txt"));
    expect(e.userId).toBe(0);
    expect(e.effectiveUserId).toBe(0);
    expect(e.capabilities.sysModule).toBe(true);
    expect(e.initialNamespaces).toEqual({ user: true, pid: true, mount: true });
    expect(e.inContainer).toBe(false);
    expect(e.container).toBeUndefined();
    expect(e.cgroup.path).toBe("/");
  });

  test("an unprivileged caller (su nobody) has no CAP_SYS_MODULE, and keeps the login uid", () => {
    const su = num("chain-nobody/su.pid");
    const e = eventFrom("finit_module", 0, su);
    expect(e.ancestors[1].hostProcessId).toBe(num("chain-nobody/top.pid"));
    expect(e.returnValue).toBe(EPERM);
    expect(e.userId).toBe(65534);
    expect(e.effectiveUserId).toBe(65534);
    expect(e.capabilities).toEqual({ effective: 0, sysModule: false });
    expect(e.loginUserId).toBe(1000);
    expect(e.sessionId).toBe(num("chain-nobody/session.txt"));
    expect(e.sessionId).not.toBe(num("chain-root/session.txt"));
  });

  const containers = [
    ["docker", { id: () => text("docker.id").trim(), runtime: "docker" }],
    ["kubepods", { id: () => text("cri.id").trim(), runtime: "containerd", pod: () => text("pod.uid").trim() }],
    ["namespaces", undefined],
  ] as const;
  for (const [dir, expected] of containers) {
    test(`${dir}: a load attempt from new pid, mount, network and user namespaces${expected ? ` in a ${expected.runtime} cgroup` : ", no container cgroup"}`, () => {
      // insmod's parent is unshare's child; unshare is the shell that exec'd it.
      const e = eventFrom("finit_module", 1, num(`${dir}/outer.pid`));
      expect(text(`${dir}/insmod.rc`).trim()).not.toBe("0");
      expect(e.returnValue).toBe(EPERM);
      expect(e.cgroup.path).toBe(text(`${dir}/cgroup.txt`).trim());
      expect(e.userNamespace).toBe(nsInode(`${dir}/userns.txt`));
      expect(e.pidNamespace).toBe(nsInode(`${dir}/pidns.txt`));
      expect(e.mountNamespace).toBe(nsInode(`${dir}/mntns.txt`));
      expect(e.netNamespace).toBe(nsInode(`${dir}/netns.txt`));
      expect(e.initialNamespaces).toEqual({ user: false, pid: false, mount: false });
      // Root in its own user namespace: the capability is in its effective
      // set, but not over the host's modules (hence EPERM).
      expect(e.capabilities.sysModule).toBe(true);
      expect(e.inContainer).toBe(true);
      if (!expected) {
        expect(e.container).toBeUndefined();
        expect(e.cgroup.path).toBe("/");
        return;
      }
      expect(e.container).toEqual({ id: expected.id(), runtime: expected.runtime });
      if ("pod" in expected) expect(e.kubernetes).toEqual({ podUID: expected.pod() });
      else expect(e.kubernetes).toBeUndefined();
    });
  }

  // Every attempt there is made from a new user namespace (unshare -U), where
  // CAP_SYS_MODULE is no power over the host's kernel: refused for lack of
  // privilege, so at most low (findings/privilege.ts).
  test("findings: each load attempt from a container or a user namespace is module_call_from_container, low (refused, unprivileged)", () => {
    const contained = events.filter((e) => e.inContainer === true && e.eventName === "finit_module");
    const found = findings.filter((f) => f.eventName === "module_call_from_container");
    expect(found.map((f) => String(f.evidence[0].callId)).sort()).toEqual(contained.map((e) => String(e.callId)).sort());
    for (const f of found) expect(f.severity).toBe("low");
    const docker = found.find((f) => f.details.containerRuntime === "docker");
    expect(docker.details.containerId).toBe(text("docker.id").trim());
    expect(found.find((f) => f.details.containerRuntime === "containerd").details.containerId).toBe(text("cri.id").trim());
  });

  test("the kernel's own modprobe: a kworker's child, whose ancestor has no executable", () => {
    const mount = num("autoload/mount.pid");
    const request = events.find((e) => e.eventName === "module_request" && e.hostProcessId === mount);
    expect(request).toBeDefined();
    const loads = events.filter((e) => e.eventName === "finit_module" && e.processName === "modprobe" && e.ancestors[0]?.processName.startsWith("kworker"));
    expect(loads.length).toBeGreaterThan(0);
    for (const e of loads) {
      expect(e.ancestors[0].executable).toEqual({ path: null });
      expect(e.loginUserId).toBe(4294967295);
    }
    // call_usermodehelper: the kernel running modprobe for it, seen as it
    // starts: the process that then loads, the file the guest's sha256sum hashed.
    const helpers = events.filter((e) => e.eventName === "call_usermodehelper" && e.args.find((a: any) => a.name === "argv")?.value === "/sbin/modprobe -q -- fs-iso9660");
    expect(helpers.length).toBe(1);
    const [helper] = helpers;
    expect(helper.args.find((a: any) => a.name === "pathname")?.value).toBe("/sbin/modprobe");
    expect(helper.executable.path).toBe(text("autoload/modprobe.path").trim());
    expect(helper.sha256).toBe(text("autoload/modprobe.sha256").trim());
    expect(helper.ancestors[0].processName).toStartWith("kworker");
    expect(loads.map((e) => e.hostProcessId)).toContain(helper.hostProcessId);
    expect(helper.timestamp).toBeGreaterThan(request.timestamp);
  });

  test("text: the chain a→b→c, the login, the capability and the short container id", () => {
    const lines = text("all/events.txt").split("\n");
    const su = num("chain-root/su.pid");
    const line = lines.find((l) => l.includes(" finit_module ") && l.includes("→sh→sh→modprobe login=1000"));
    expect(line).toBeDefined();
    expect(line).toContain(`sess=${num("chain-root/session.txt")} euid=0 +CAP_SYS_MODULE`);
    expect(lines.some((l) => l.includes(" finit_module ") && l.includes(` container=docker:${text("docker.id").slice(0, 12)}`))).toBe(true);
    expect(lines.some((l) => l.includes(` pod=${text("pod.uid").trim()}`))).toBe(true);
    expect(su).toBeGreaterThan(0);
  });

  const lines = (name: string) => text(name).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((o) => o.finding !== true);
  /** Events as what they were, not when or which capture saw them. */
  const calls = (list: any[]) => list.map((e) => `${e.eventName} ${e.hostProcessId} ${e.returnValue}`).sort();

  test("capture --container ID keeps the docker container's call only; --not-container every call outside a container", () => {
    const dockerOnly = lines("docker-only/events.json");
    const docker = eventFrom("finit_module", 1, num("docker/outer.pid"));
    expect(calls(dockerOnly)).toEqual(calls([docker]));
    expect(text("docker-only/modtrace.err")).toMatch(new RegExp(` ${events.length - 1} filtered out`));
    expect(calls(lines("host-only/events.json"))).toEqual(calls(events.filter((e) => e.inContainer === false)));
    expect(events.filter((e) => e.inContainer === true).length).toBe(3);
  });

  const modtrace = (...args: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), "modtrace-context-"));
    const log = join(dir, "events.cbor");
    writeFileSync(log, r.outputs["all/events.cbor"]);
    return runModtrace(args.map((a) => (a === "LOG" ? log : a)));
  };

  test("read --container / --not-container select the same calls from the log", () => {
    const parse = (out: string) => out.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const byId = parse(modtrace("read", "LOG", "-o", "json", "--container", text("cri.id").slice(0, 8)).stdout);
    expect(calls(byId)).toEqual(calls([eventFrom("finit_module", 1, num("kubepods/outer.pid"))]));
    expect(calls(parse(modtrace("read", "LOG", "-o", "json", "--container").stdout))).toEqual(calls(events.filter((e) => e.inContainer)));
    expect(calls(parse(modtrace("read", "LOG", "-o", "json", "--not-container").stdout))).toEqual(calls(events.filter((e) => !e.inContainer)));
  });

  test("stats: load calls per container, per login uid, per ancestor chain", () => {
    const s = JSON.parse(modtrace("stats", "LOG", "--json").stdout);
    const loads = events.filter((e) => e.eventName === "finit_module" || e.eventName === "init_module");
    expect(s.loadsByContainer[`docker:${text("docker.id").trim()}`]).toBe(1);
    expect(s.loadsByContainer[`containerd:${text("cri.id").trim()}`]).toBe(1);
    expect(s.loadsByContainer["(own pid and mount namespaces, no container cgroup)"]).toBe(1);
    expect(s.loadsByLogin["1000"]).toBe(2); // the two chains
    expect(Object.values(s.loadsByChain).reduce((a: number, b: any) => a + b, 0)).toBe(loads.length);
    const root = eventFrom("finit_module", 0, num("chain-root/su.pid"));
    const chain = [...walkOf("chain-root/ancestry.txt")].reverse().map((a) => Buffer.from(a.comm_hex, "hex").toString()).join("→") + "→modprobe";
    expect(s.loadsByChain[chain]).toBeGreaterThanOrEqual(1);
    expect(root.ancestryCut).toBeUndefined();
  });

  test("read gives back, offline, byte for byte what the capture printed", () => {
    const dir = mkdtempSync(join(tmpdir(), "modtrace-context-"));
    const log = join(dir, "events.cbor");
    writeFileSync(log, r.outputs["all/events.cbor"]);
    const json = runModtrace(["read", log, "-o", "json"]);
    expect(json.stderr).toBe("");
    expect(json.stdout).toBe(text("all/events.json"));
    const txt = runModtrace(["read", log, "-o", "text"]);
    expect(txt.stdout).toBe(text("all/events.txt"));
  });
});
