// The container a cgroup path names (decoder/assembly/container.ts), through
// the decoder: a captured record with its cgroup slot replaced by each
// runtime's layout, and by paths that must name no container.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Decoder, layout } from "../../../decoder/host";
import { cborItems } from "../../lib/cbor";
import { splitRecords, withString } from "../../lib/records";

const ID = "4f1c0d7a9e2b3c8d5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b";
const ID2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const POD = "2f4a8c1e-93b7-4d5a-b6c2-8e1f0a3d9b47";
const POD_ = POD.replaceAll("-", "_");
const STATIC_POD = "6d4a2f1e8c7b9a0d3e5f1a2b4c6d8e0f";

// path → [runtime, id, pod uid]
const MATCH: [string, string, string, string | undefined][] = [
  [`/system.slice/docker-${ID}.scope`, "docker", ID, undefined],
  [`/docker/${ID}`, "docker", ID, undefined],
  [`/system.slice/docker-${ID}.scope/init.scope`, "docker", ID, undefined],
  [`/system.slice/docker-${ID}.scope/docker/${ID2}`, "docker", ID2, undefined], // docker in docker: the inner one
  [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID}.scope`, "containerd", ID, POD],
  [`/kubepods.slice/kubepods-pod${POD_}.slice/cri-containerd-${ID}.scope`, "containerd", ID, POD], // guaranteed QoS
  [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${STATIC_POD}.slice/cri-containerd-${ID}.scope`, "containerd", ID, STATIC_POD],
  [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/crio-${ID}.scope`, "crio", ID, POD],
  [`/kubepods/burstable/pod${POD}/crio-${ID}`, "crio", ID, POD],
  [`/kubepods/besteffort/pod${POD}/${ID}`, "cri", ID, POD], // kubelet's cgroupfs driver names no runtime
  [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/docker-${ID}.scope`, "docker", ID, POD],
  [`/machine.slice/libpod-${ID}.scope`, "podman", ID, undefined],
  [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`, "podman", ID, undefined],
  [`/libpod_parent/libpod-${ID}`, "podman", ID, undefined],
  ["/machine.slice/machine-debian\\x2dbookworm.scope", "systemd-nspawn", "debian-bookworm", undefined],
  ["/machine.slice/machine-web.scope/payload/system.slice/nginx.service", "systemd-nspawn", "web", undefined],
  ["/machine.slice/systemd-nspawn@arch.service", "systemd-nspawn", "arch", undefined],
];

const NO_MATCH = [
  "/",
  "/init.scope",
  "/system.slice/docker.service",
  "/system.slice/containerd.service",
  "/user.slice/user-1000.slice/session-3.scope",
  `/system.slice/docker-${ID.slice(1)}.scope`, // 63 hex
  `/system.slice/docker-${ID}0.scope`, // 65 hex
  `/system.slice/docker-${ID.toUpperCase()}.scope`,
  `/system.slice/docker-${ID}.service`,
  `/machine.slice/libpod-conmon-${ID}.scope`, // podman's monitor runs on the host
  `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-conmon-${ID}.scope`,
  "/machine.slice/machine-qemu\\x2d1\\x2dwin10.scope", // a libvirt virtual machine
  "/docker",
  `/system.slice/${ID}`, // a bare id under neither docker nor a pod
  `/docker-${ID}.scopes`,
  "/kubepods.slice/kubepods-burstable.slice",
];

let decoder: Decoder;
// A captured record from the host's initial namespaces (tests/fixtures/record.sh).
const template = splitRecords(readFileSync("tests/fixtures/kernel-6.18.raw"))[0];

function decodePaths(paths: string[]): any[] {
  const batch = Buffer.concat(paths.map((p) => withString(template, layout.SLOT_CGROUP, Buffer.from(p, "latin1"))));
  decoder.inputView(batch.length).set(batch);
  return new TextDecoder().decode(decoder.decode(batch.length, "json")).trim().split("\n").map((l) => JSON.parse(l));
}

function textLines(paths: string[]): string[] {
  const batch = Buffer.concat(paths.map((p) => withString(template, layout.SLOT_CGROUP, Buffer.from(p, "latin1"))));
  decoder.inputView(batch.length).set(batch);
  return new TextDecoder().decode(decoder.decode(batch.length, "text")).trimEnd().split("\n");
}

beforeAll(async () => {
  decoder = await Decoder.load(readFileSync("build/decoder.wasm"));
});

describe("container from the cgroup path", () => {
  test("every runtime's layout gives its id, runtime and pod uid", () => {
    const events = decodePaths(MATCH.map(([p]) => p));
    events.forEach((e, i) => {
      const [path, runtime, id, pod] = MATCH[i];
      expect({ path, cgroup: e.cgroup.path, container: e.container, kubernetes: e.kubernetes, inContainer: e.inContainer }).toEqual({
        path, cgroup: path, container: { id, runtime }, kubernetes: pod === undefined ? undefined : { podUID: pod }, inContainer: true,
      });
    });
  });

  test("paths that name no container give none (and, in the host's namespaces, inContainer false)", () => {
    const events = decodePaths(NO_MATCH);
    events.forEach((e, i) => expect({ path: NO_MATCH[i], container: e.container, inContainer: e.inContainer }).toEqual({ path: NO_MATCH[i], container: undefined, inContainer: false }));
  });

  test("a pod's own cgroup gives its uid without a container", () => {
    const [e] = decodePaths([`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice`]);
    expect(e.kubernetes).toEqual({ podUID: POD });
    expect(e.container).toBeUndefined();
  });

  test("text: the runtime and the short id, the pod uid", () => {
    const lines = textLines([MATCH[4][0], MATCH[14][0], "/"]);
    expect(lines[0]).toContain(` container=containerd:${ID.slice(0, 12)} pod=${POD}`);
    expect(lines[1]).toContain(" container=systemd-nspawn:debian-bookworm");
    expect(lines[2]).not.toContain("container=");
  });

  test("CBOR agrees with JSON on every path", () => {
    const paths = [...MATCH.map(([p]) => p), ...NO_MATCH];
    const batch = Buffer.concat(paths.map((p) => withString(template, layout.SLOT_CGROUP, Buffer.from(p, "latin1"))));
    decoder.inputView(batch.length).set(batch);
    const items = cborItems(decoder.decode(batch.length, "cbor").slice());
    const json = decodePaths(paths);
    items.forEach((e: any, i: number) => {
      expect(e.container).toEqual(json[i].container);
      expect(e.kubernetes).toEqual(json[i].kubernetes);
    });
  });
});
