// The caller's context on this machine's kernel: without modules the calls
// fail, and each attempt still carries who made it and from where. The truth
// is what /proc said to the trigger just before its call.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { expectContext, withContext } from "../lib/context-truth";
import { Capture, jsonLines, TRIGGER } from "./harness";

function run(script: string): any[] {
  const r = Bun.spawnSync(["sh", "-c", script], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`sh -c '${script}' failed: ${r.stderr}`);
  return jsonLines(r.stdout.toString());
}

/** Where this host mounts cgroup v2 (a hybrid layout mounts it below /sys/fs/cgroup). */
function cgroup2Mount(): string {
  const line = readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")).find((f) => f[2] === "cgroup2");
  if (!line) throw new Error("this host has no cgroup2 mount");
  return line[1];
}

const DOCKER_ID = "9c3e5a7b1d2f4e6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a";
const cgroupDir = join(cgroup2Mount(), "system.slice", `docker-${DOCKER_ID}.scope`);

afterAll(() => {
  if (existsSync(cgroupDir)) rmdirSync(cgroupDir);
});

describe("caller context", () => {
  test("an attempt through two shells: its ancestors, the login uid and session set at the top, euid, capabilities, cgroup, as /proc said", async () => {
    const capture = await Capture.start(["--comm", "mt-trigger", "-o", "json"]);
    const truth = withContext(run(`echo 4242 > /proc/self/loginuid; sh -c "${TRIGGER} context; true"; true`));
    const done = await capture.stop();
    const [e] = jsonLines(done.stdout);
    expect(truth.length).toBe(1);
    expectContext(e, truth[0].context);
    expect(e.loginUserId).toBe(4242);
    expect(e.ancestors[0].processName).toBe("sh");
    expect(e.ancestors[1].processName).toBe("sh");
    expect(e.initialNamespaces).toEqual({ user: true, pid: true, mount: true });
    expect(e.inContainer).toBe(false);
    expect(done.stderr).toContain("1 events captured");
  });

  test("an unprivileged caller has no CAP_SYS_MODULE", async () => {
    const capture = await Capture.start(["--comm", "mt-trigger", "-o", "json"]);
    run(`${TRIGGER} uid 65534`);
    const [e] = jsonLines((await capture.stop()).stdout);
    expect(e).toMatchObject({ userId: 65534, effectiveUserId: 65534, capabilities: { effective: 0, sysModule: false } });
  });

  test("from new user, pid, mount and network namespaces in a docker cgroup: the container, and --container/--not-container at capture", async () => {
    mkdirSync(cgroupDir, { recursive: true });
    // No heartbeats: the three captures' heartbeat calls would be one
    // another's kernel-filtered calls, and the count below is --not-container's alone.
    const all = await Capture.start(["--comm", "mt-trigger", "--heartbeat", "0", "-o", "json"]);
    const docker = await Capture.start(["--comm", "mt-trigger", "--heartbeat", "0", "--container", DOCKER_ID.slice(0, 12), "-o", "json"]);
    const host = await Capture.start(["--comm", "mt-trigger", "--heartbeat", "0", "--not-container", "-o", "json"]);
    const [{ outer }, ...insideLines] = run(`echo $$ > ${cgroupDir}/cgroup.procs; echo "{\\"outer\\":$$}"; exec unshare -U -r -p -m -n -f ${TRIGGER} context`);
    const insideTruth = withContext(insideLines)[0].context;
    const outsideTruth = withContext(run(`${TRIGGER} context`))[0].context;
    const events = jsonLines((await all.stop()).stdout);
    const dockerEvents = jsonLines((await docker.stop()).stdout);
    const hostDone = await host.stop();
    expect(events.length).toBe(2);
    // The trigger is unshare's child; unshare is the shell that exec'd it.
    const inside = events.find((e) => e.ancestors[0].hostProcessId === outer)!;
    const outside = events.find((e) => e !== inside)!;
    expect(inside).toMatchObject({
      cgroup: { path: `/system.slice/docker-${DOCKER_ID}.scope` },
      container: { id: DOCKER_ID, runtime: "docker" },
      inContainer: true,
      initialNamespaces: { user: false, pid: false, mount: false },
      processId: 1,
    });
    expect(inside.userNamespace).not.toBe(outside.userNamespace);
    // Its own network namespace, as /proc/self/ns/net named it on each side.
    expect(inside.netNamespace).toBe(insideTruth.net_ns);
    expect(outside.netNamespace).toBe(outsideTruth.net_ns);
    expect(inside.netNamespace).not.toBe(outside.netNamespace);
    expect(outside.container).toBeUndefined();
    expect(outside.inContainer).toBe(false);
    expect(dockerEvents.map((e) => e.hostProcessId)).toEqual([inside.hostProcessId]);
    expect(jsonLines(hostDone.stdout).map((e) => e.hostProcessId)).toEqual([outside.hostProcessId]);
    expect(hostDone.stderr).toContain("1 filtered out");
  });

  test("--ancestors 1 keeps the parent and says more were above", async () => {
    const capture = await Capture.start(["--comm", "mt-trigger", "--ancestors", "1", "-o", "json"]);
    const truth = withContext(run(`${TRIGGER} context`));
    const [e] = jsonLines((await capture.stop()).stdout);
    expect(e.ancestors.map((a: any) => a.hostProcessId)).toEqual([truth[0].context.ancestors[0].pid]);
    expect(e.ancestryCut).toBe(true);
  });
});
