// The findings rules on records: real events captured in the VM (the fleet
// fixtures) as they are, and the same events changed the way an attack
// would change them, through the engine live capture and `findings` share.
// Each expectation is reasoned from the rule's definition, not from output.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import wasmPath from "../../../build/decoder.wasm" with { type: "file" };
import { Decoder } from "../../../decoder/host";
import { readLog } from "../../../log/reader";
import { writeRecords } from "../../../record/records";
import { ConfigError, findingsConfig } from "../../../findings/config";
import { FindingsEngine } from "../../../findings/engine";
import { severityRank, type Finding } from "../../../findings/finding";

const FLEET = "tests/fixtures/vm";
const fleetFiles = readdirSync(FLEET).flatMap((host) => readdirSync(join(FLEET, host)).sort().map((f) => join(FLEET, host, f)));
const fleet: any[] = fleetFiles.flatMap((f) => [...readLog(f, [])].filter((i) => i.kind === "event").map((i) => i.value));

let decoder: Decoder;
beforeAll(async () => {
  decoder = await Decoder.load(readFileSync(wasmPath));
  decoder.setClockOffset(0n);
});

function judge(events: any[], config = findingsConfig()): Finding[] {
  const engine = new FindingsEngine(config);
  const len = writeRecords(events, decoder);
  return [...engine.feed(decoder, len, 0n), ...engine.end()];
}

const rules = (fs: Finding[]) => fs.map((f) => `${f.rule} ${f.severity}`).sort();

/** A real event of the fixtures, copied, with fields and arguments replaced. */
function real(eventName: string, change: Record<string, unknown> = {}, args: Record<string, unknown> = {}): any {
  const template = fleet.find((e) => e.eventName === eventName && (eventName !== "finit_module" || e.returnValue === 0n || e.returnValue === 0));
  if (!template) throw new Error(`no ${eventName} in the fixtures`);
  const e = structuredClone(template);
  Object.assign(e, change);
  e.args = e.args.map((a: any) => (a.name in args ? { ...a, value: args[a.name] } : a));
  return e;
}

const at = (e: any, seconds: number) => ({ ...e, timestamp: BigInt(e.timestamp) + BigInt(Math.round(seconds * 1e9)) });
const unprivileged = { userId: 1000, effectiveUserId: 1000, capabilities: { effective: 0, sysModule: false } };

describe("findings rules", () => {
  test("the VM tier's normal module work (every fleet fixture) gives nothing above info, except web-2's unsigned rebuild", () => {
    const above = judge(fleet).filter((f) => severityRank(f.severity) > severityRank("info"));
    // web-2 loaded /root/8021q-unsigned.ko, an unsigned rebuild: that one load alone.
    expect(new Set(above.map((f) => f.evidence[0].callId)).size).toBe(1);
    expect(rules(above)).toEqual(["hit_and_run high", "name_file_mismatch medium", "untrusted_module medium", "unusual_load_path medium"]);
  });

  test("a load from /tmp by an executable that is not a module tool", () => {
    const e = real("finit_module", { executable: { path: "/usr/bin/python3.11" } }, { pathname: "/tmp/.x/rk.ko" });
    expect(rules(judge([e]))).toEqual(["loader_not_module_tool medium", "unusual_load_path high"]);
    // --module-tool makes the loader known; the place stays unusual.
    expect(rules(judge([e], findingsConfig({ moduleTools: ["/usr/bin/python3.11"] })))).toEqual(["unusual_load_path high"]);
    expect(rules(judge([e], findingsConfig({ disabledRules: ["unusual_load_path", "loader_not_module_tool"] })))).toEqual([]);
  });

  test("unusual places: a memfd and a deleted file are high, /opt is medium, the module directories nothing", () => {
    const path = (p: string) => rules(judge([real("finit_module", {}, { pathname: p })]));
    expect(path("/memfd:payload (deleted)")).toEqual(["unusual_load_path high"]);
    expect(path("memfd:payload")).toEqual(["unusual_load_path high"]); // as the kernel names it
    expect(path("/lib/modules/6.1.0-56-amd64/kernel/drivers/net/dummy.ko (deleted)")).toEqual(["unusual_load_path high"]);
    expect(path("/dev/shm/m.ko")).toEqual(["unusual_load_path high"]);
    expect(path("/opt/vendor/m.ko")).toEqual(["unusual_load_path medium"]);
    expect(path("/usr/lib/modules/6.1.0-56-amd64/kernel/drivers/net/dummy.ko")).toEqual([]);
  });

  test("init_module by anything but a module tool is a fileless load", () => {
    const e = real("init_module", { executable: { path: "/root/dropper" }, processName: "dropper" });
    expect(rules(judge([e]))).toEqual(["image_from_memory high", "loader_not_module_tool medium"]);
    expect(rules(judge([real("init_module")]))).toEqual([]); // kmod's insmod of a .ko.xz
  });

  test("module_load's taints and sig_ok: unsigned or out-of-tree is medium, forced is high", () => {
    const load = (taints: number, sigOk: boolean | null) => judge([real("module_load", {}, { taints, sig_ok: sigOk })]);
    expect(load(0, true)).toEqual([]);
    const oot = load((1 << 12) | (1 << 13), false);
    expect(rules(oot)).toEqual(["untrusted_module medium"]);
    expect(oot[0].details!.reasons).toEqual(["out-of-tree", "unsigned"]);
    expect(rules(load(1 << 1, true))).toEqual(["untrusted_module high"]);
    expect(rules(load(0, false))).toEqual(["untrusted_module medium"]); // sig_ok false without the taint
  });

  test("delete_module: O_TRUNC forces, and a name the kernel did not act on is a race", () => {
    const del = real("delete_module", {}, { flags: 0o1000 | 0o4000 });
    expect(rules(judge([del]))).toEqual(["forced_unload medium"]);
    const raced = real("delete_module", { moduleName: "lkrg_x" }, { name: "dummy" });
    expect(rules(judge([raced]))).toEqual(["name_mismatch high"]);
  });

  test("probing: five failures of one user within the window, by its errors and privileges", () => {
    const fail = (errno: number, who: object, seconds: number) => at(real("delete_module", { returnValue: -errno, moduleName: undefined, ...who }, { name: "x" }), seconds);
    const five = [0, 1, 2, 3, 4].map((s) => fail(1, unprivileged, s));
    const found = judge(five);
    expect(rules(found)).toEqual(["probing low"]);
    expect(found[0].details!.failures).toBe(5);
    expect(found[0].evidence.length).toBe(5);
    expect(judge(five.slice(0, 4))).toEqual([]);
    // Spread over two windows: never five in one.
    expect(judge([0, 1, 2, 70, 71].map((s) => fail(1, unprivileged, s)))).toEqual([]);
    // Root's ENOENT storm is a script's, not an attack: info.
    expect(rules(judge([0, 1, 2, 3, 4].map((s) => fail(2, {}, s))))).toEqual(["probing info"]);
    // Twelve failures: the evidence keeps the first ten, and says so.
    const twelve = judge(Array.from({ length: 12 }, (_, s) => fail(1, unprivileged, s)));
    expect(twelve[0].evidence.length).toBe(10);
    expect(twelve[0].details).toMatchObject({ failures: 12, evidenceKept: 10 });
    expect(twelve[0].description).toContain("evidence: the first 10 of the 12 calls");
    // Images the kernel refuses, again and again.
    expect(rules(judge([0, 1, 2, 3, 4].map((s) => at(real("finit_module", { returnValue: -8 }), s))))).toEqual(["probing high"]);
  });

  test("hit and run: a load undone within seconds; unsigned makes it high; a security tool's unload", () => {
    const load = real("finit_module");
    const name = load.moduleName;
    const unload = (s: number, mod = name) => at(real("delete_module", { moduleName: mod, returnValue: 0 }, { name: mod }), s);
    expect(rules(judge([load, unload(1)]))).toEqual(["hit_and_run info"]);
    expect(judge([load, unload(30)])).toEqual([]);
    const tainted = real("module_load", { callId: load.callId }, { name, taints: 1 << 12, sig_ok: false });
    expect(rules(judge([tainted, load, unload(1)]))).toEqual(["hit_and_run high", "untrusted_module medium"]);
    expect(rules(judge([unload(0, "lkrg")]))).toEqual(["security_module_unloaded high"]);
  });

  test("name and file: a module from a file named for another", () => {
    const load = (name: string, pathname: string) => rules(judge([real("module_load", {}, { name, pathname })]));
    expect(load("dummy", "/lib/modules/6.1.0-56-amd64/kernel/drivers/net/e1000.ko")).toEqual(["name_file_mismatch medium"]);
    expect(load("snd_hda_intel", "/lib/modules/6.1.0-56-amd64/kernel/sound/snd-hda-intel.ko.xz")).toEqual([]);
  });

  test("autoload of a module exploits use, by an unprivileged caller only; aliases match whole", () => {
    const request = (name: string, who: object) => judge([real("module_request", who, { name })]);
    const dccp = request("net-pf-2-proto-33-type-6", unprivileged);
    expect(rules(dccp)).toEqual(["rare_autoload high"]);
    expect(dccp[0].moduleName).toBe("dccp");
    expect(dccp[0].details!.cves).toContain("CVE-2017-6074");
    expect(request("net-pf-2-proto-33-type-6", {})).toEqual([]); // root with CAP_SYS_MODULE
    expect(request("net-pf-2-proto-13", unprivileged)).toEqual([]); // not sctp (132)
    expect(request("fs-iso9660", unprivileged)).toEqual([]);
    // The IPv6 and IP-encapsulation aliases of the same modules (the kernel's own MODULE_ALIAS lines).
    for (const [alias, module] of [["net-pf-10-proto-132", "sctp"], ["net-pf-10-proto-115-type-2", "l2tp_ip6"], ["net-pf-2-proto-115-type-2", "l2tp_ip"], ["net-pf-9", "x25"]]) {
      const found = request(alias, unprivileged);
      expect([rules(found), found[0]?.moduleName]).toEqual([["rare_autoload high"], module]);
    }
    // The kernel asks under two aliases in a row: one finding.
    const twice = judge([real("module_request", unprivileged, { name: "net-pf-2-proto-33-type-6" }), real("module_request", unprivileged, { name: "net-pf-2-proto-33" })]);
    expect(rules(twice)).toEqual(["rare_autoload high"]);
  });

  test("a program the kernel ran: the autoload helper judged as a module tool, other helpers by kernelHelpers; the request it answered named", () => {
    // A kernel-run program's event, built on a real module_request (its process context).
    const ran = (exe: string, pathname: string, argv: string) =>
      real("module_request", {
        eventName: "call_usermodehelper", eventId: 2010, argsNum: 4, executable: { path: exe },
        sha256: "ab".repeat(32), size: 1234,
        args: [
          { name: "pathname", type: "const char*", value: pathname },
          { name: "argv", type: "const char*const*", value: argv },
          { name: "dev", type: "dev_t", value: 8 << 20 },
          { name: "inode", type: "unsigned long", value: 12 },
        ],
      });
    const ask = real("module_request", unprivileged, { name: "net-pf-38" });
    // The stock helper for an autoload: kmod, through /sbin/modprobe's link.
    expect(judge([ask, ran("/usr/bin/kmod", "/sbin/modprobe", "/sbin/modprobe -q -- net-pf-38")])).toEqual([]);
    // modprobe_path pointed at a script: it runs through its interpreter, and is no module tool.
    const script = judge([ask, ran("/usr/bin/dash", "/tmp/x", "/bin/sh /tmp/x -q -- net-pf-38")]);
    expect(rules(script)).toEqual(["kernel_ran_program critical"]);
    expect(script[0].details).toEqual({ pathname: "/tmp/x", argv: "/bin/sh /tmp/x -q -- net-pf-38", executable: "/usr/bin/dash", sha256: "ab".repeat(32), request: "net-pf-38" });
    expect(script[0].actor!.userId).toBe(1000); // the requester, not the helper
    expect(script[0].evidence.map((e) => e.eventName)).toEqual(["module_request", "call_usermodehelper"]);
    expect(script[0].description).toContain("/tmp/x (run by /usr/bin/dash)");
    // The helper's exec may come in before the request (another ring): it waits for it.
    const early = judge([ran("/usr/bin/dash", "/tmp/x", "/bin/sh /tmp/x -q -- net-pf-38"), ask]);
    expect(early.map((f) => [f.rule, f.details!.request, f.evidence.map((e) => e.eventName)])).toEqual([["kernel_ran_program", "net-pf-38", ["module_request", "call_usermodehelper"]]]);
    // A script run by busybox's sh: busybox is a module tool, the script is not.
    expect(rules(judge([ran("/bin/busybox", "/dev/shm/h", "/bin/sh /dev/shm/h -q -- net-pf-38")]))).toEqual(["kernel_ran_program critical"]);
    // A stock path replaced by a link to another program: judged by the program that runs.
    expect(rules(judge([ran("/tmp/rk", "/sbin/modprobe", "/sbin/modprobe -q -- fs-iso9660")]))).toEqual(["kernel_ran_program critical"]);
    // Other helpers: systemd-coredump for core_pattern is normal; a release_agent of one's own is not.
    expect(judge([ran("/usr/lib/systemd/systemd-coredump", "/usr/lib/systemd/systemd-coredump", "/usr/lib/systemd/systemd-coredump 123 0 0 11")])).toEqual([]);
    expect(rules(judge([ran("/tmp/escape", "/tmp/escape", "/tmp/escape /docker/abc")]))).toEqual(["kernel_ran_program high"]);
    // A module tool is no autoload helper's case unless asked as one, and still fine.
    expect(judge([ran("/usr/bin/kmod", "/sbin/modprobe", "/sbin/modprobe -r dummy")])).toEqual([]);
  });

  test("a call that failed for lack of privilege is at most low; root's failures and successes keep their severity", () => {
    const unload = (who: object, returnValue: number) => real("delete_module", { returnValue, moduleName: undefined, ...who }, { name: "lkrg" });
    const byNobody = judge([unload(unprivileged, -38)]);
    expect(rules(byNobody)).toEqual(["security_module_unloaded low"]);
    expect(byNobody[0].details!.severityIfPrivileged).toBe("high");
    expect(byNobody[0].description).toContain("without privilege");
    expect(rules(judge([unload({}, -2)]))).toEqual(["security_module_unloaded high"]); // root, CAP_SYS_MODULE: it could have
    expect(rules(judge([unload({}, -1)]))).toEqual(["security_module_unloaded low"]); // EPERM even for root: lockdown
    const fileless = real("init_module", { executable: { path: "/tmp/x" }, returnValue: -38, ...unprivileged });
    expect(rules(judge([fileless]))).toEqual(["image_from_memory low", "loader_not_module_tool low"]);
    const fromTmp = real("finit_module", { returnValue: -38, ...unprivileged }, { pathname: "/tmp/rk.ko" });
    expect(rules(judge([fromTmp])).filter((r) => r.startsWith("unusual"))).toEqual(["unusual_load_path low"]);
  });

  test("one caller's findings of a rule: the first ten in a window written apart, the rest folded into one that counts them", () => {
    const floods = (uid: number, n: number) =>
      Array.from({ length: n }, (_, i) => at(real("delete_module", { returnValue: -38, moduleName: undefined, ...unprivileged, userId: uid }, { name: "lkrg" }), i * 0.01));
    const found = judge(floods(1000, 25)).filter((f) => f.rule === "security_module_unloaded");
    expect(found.length).toBe(11);
    const folded = found.filter((f) => f.details?.folded !== undefined);
    expect(folded.length).toBe(1);
    expect(folded[0].details!.folded).toBe(15);
    expect(folded[0].description).toContain("stands for 15");
    expect(folded[0].evidence.length).toBe(10);
    // Another caller has a limit of its own.
    const two = judge([...floods(1000, 12), ...floods(1001, 3)]).filter((f) => f.rule === "security_module_unloaded");
    expect(two.filter((f) => f.actor!.userId === 1001).length).toBe(3);
    expect(two.filter((f) => f.actor!.userId === 1000).length).toBe(11);
  });

  test("a module call from a container's cgroup, or from another user namespace", () => {
    const id = "4f1c0d7a9e2b".padEnd(64, "0");
    const inDocker = real("finit_module", { cgroup: { path: `/system.slice/docker-${id}.scope` } });
    const found = judge([inDocker]);
    expect(rules(found)).toEqual(["module_call_from_container high"]);
    expect(found[0].details).toMatchObject({ containerRuntime: "docker", containerId: id });
    const userns = real("delete_module", { initialNamespaces: { user: false, pid: true, mount: true } });
    expect(rules(judge([userns]))).toEqual(["module_call_from_container medium"]);
  });
});

describe("findings configuration", () => {
  const file = (text: string) => {
    const path = join(tmpdir(), `findings-${process.pid}-${Math.random()}.json`);
    writeFileSync(path, text);
    return path;
  };

  test("a file adds to the lists and replaces severities", () => {
    const c = findingsConfig({ file: file(JSON.stringify({ moduleTools: ["/opt/x/loader"], severity: { probing: "low" } })) });
    expect(c.moduleTools).toContain("/opt/x/loader");
    expect(c.moduleTools).toContain("/bin/kmod");
    expect(c.severity.probing).toBe("low");
  });

  test("unknown keys, bad severities and bad JSON are refused with the file's name", () => {
    expect(() => findingsConfig({ file: file('{"moduleTool": []}') })).toThrow(/unknown key 'moduleTool'/);
    expect(() => findingsConfig({ file: file('{"severity": {"probing": "urgent"}}') })).toThrow(ConfigError);
    expect(() => findingsConfig({ file: file("{") })).toThrow(/--findings-config/);
  });
});

describe("every way in: what the kernel's facts say of a load", () => {
  const DUMMY = "/lib/modules/6.1.0-56-amd64/kernel/drivers/net/dummy.ko";
  const finit = (change: Record<string, unknown>, pathname: unknown = DUMMY) => rules(judge([real("finit_module", change, { pathname })]));

  test("a path in the module directory is judged by the file's standing, not by how it looks", () => {
    expect(finit({})).toEqual([]);
    expect(finit({ fileUnlinked: true })).toEqual(["unusual_load_path high"]);
    expect(finit({ fileOtherMount: true })).toEqual(["unusual_load_path medium"]);
    // Cut to its last bytes: the head that says /lib/modules may not be the file's.
    const cut = structuredClone(real("finit_module", {}, { pathname: DUMMY }));
    cut.args = cut.args.map((a: any) => (a.name === "pathname" ? { ...a, truncated: true } : a));
    expect(rules(judge([cut]))).toEqual(["unusual_load_path medium"]);
  });

  test("an fd that named another file than the kernel read: file_swapped", () => {
    expect(finit({ fileSwapped: true })).toEqual(["file_swapped high"]);
  });

  test("a module_load on a thread in no load call: load_without_call", () => {
    const load = real("module_load", { noLoadCall: true }, { taints: 0, sig_ok: true });
    expect(rules(judge([load]))).toEqual(["load_without_call high"]);
    expect(rules(judge([{ ...load, noLoadCall: undefined }]))).toEqual([]);
  });

  test("the init of an untrusted module fails: untrusted_init_failed; a trusted one's failure is nothing", () => {
    const load = real("module_load", {}, { taints: 1 << 12, sig_ok: false }); // out-of-tree, unsigned
    const init = (ret: number, of = load) => real("do_init_module", { callId: of.callId, returnValue: ret }, { name: of.args.find((a: any) => a.name === "name").value });
    expect(rules(judge([load, init(-19)]))).toEqual(["untrusted_init_failed high", "untrusted_module medium"]);
    expect(rules(judge([load, init(0)]))).toEqual(["untrusted_module medium"]);
    const trusted = real("module_load", {}, { taints: 0, sig_ok: true });
    expect(rules(judge([trusted, init(-19, trusted)]))).toEqual([]);
  });

  test("a kernel staged by kexec: kernel_staged, low through kexec-tools from /boot, high otherwise; unstaging and failures are not findings", () => {
    const template = real("finit_module");
    const kexecFile = (exe: string, path: string, flags: number, ret = 0, extra: Record<string, unknown> = {}) => ({
      ...structuredClone(template),
      eventName: "kexec_file_load",
      returnValue: ret,
      executable: { path: exe },
      ...extra,
      args: [
        { name: "kernel_fd", value: 3 }, { name: "initrd_fd", value: -1 }, { name: "cmdline", value: "root=/dev/vda ro" },
        { name: "flags", value: flags }, { name: "pathname", value: path }, { name: "dev", value: 0x800001 }, { name: "inode", value: 77 },
      ],
    });
    const kexecLoad = (exe: string, segments: number, flags: number, ret = 0) => ({
      ...structuredClone(template),
      eventName: "kexec_load",
      returnValue: ret,
      executable: { path: exe },
      args: [{ name: "entry", value: 0x1000000 }, { name: "nr_segments", value: segments }, { name: "flags", value: flags }],
    });
    const NO_INITRAMFS = 4, UNLOAD = 1, FILE_ON_CRASH = 2, ON_CRASH = 1;
    expect(rules(judge([kexecFile("/usr/sbin/kexec", "/boot/vmlinuz-6.1.0-57-amd64", NO_INITRAMFS)]))).toEqual(["kernel_staged low"]);
    const odd = judge([kexecFile("/tmp/x", "/tmp/vmlinuz", NO_INITRAMFS | FILE_ON_CRASH)]);
    expect(rules(odd)).toEqual(["kernel_staged high"]);
    expect(odd[0].description).toContain("/tmp/x staged the kernel in /tmp/vmlinuz");
    expect(odd[0].description).toContain("next crash");
    expect(odd[0].details).toMatchObject({ crashKernel: true, path: "/tmp/vmlinuz", cmdline: "root=/dev/vda ro" });
    // kexec-tools, but a file elsewhere, or one with no name left, is not the known path.
    expect(rules(judge([kexecFile("/usr/sbin/kexec", "/root/vmlinuz", 0)]))).toEqual(["kernel_staged high"]);
    expect(rules(judge([kexecFile("/usr/sbin/kexec", "/boot/vmlinuz", 0, 0, { fileUnlinked: true })]))).toEqual(["kernel_staged high"]);
    // Unstaging, and calls that failed (anyone can make them), are not findings.
    expect(rules(judge([kexecFile("/tmp/x", "", UNLOAD)]))).toEqual([]);
    expect(rules(judge([kexecFile("/tmp/x", "/tmp/vmlinuz", 0, -1)]))).toEqual([]);
    expect(rules(judge([kexecLoad("/tmp/x", 0, 0)]))).toEqual([]);
    expect(rules(judge([kexecLoad("/tmp/x", 3, 0, -38)]))).toEqual([]);
    // kexec_load: the kernel comes from memory; kexec-tools is the known caller.
    expect(rules(judge([kexecLoad("/sbin/kexec", 3, ON_CRASH)]))).toEqual(["kernel_staged low"]);
    const fromMemory = judge([kexecLoad("/usr/bin/python3", 3, 0)]);
    expect(rules(fromMemory)).toEqual(["kernel_staged high"]);
    expect(fromMemory[0].description).toContain("a kernel from its own memory");
  });

  test("a loaded module whose image could not be hashed: load_unhashed, with the reason", () => {
    const unhashed = (sha256Error: string) => {
      const e = real("module_load", { sha256Error, size: 4194304 }, { taints: 0, sig_ok: true });
      delete e.sha256;
      return judge([e]);
    };
    const full = unhashed("image ring full after 1048576 of 4194304 bytes (--image-buffer-size)");
    expect(rules(full)).toEqual(["load_unhashed medium"]);
    expect(full[0].description).toContain("full after 1048576 of 4194304 bytes");
    expect(rules(unhashed("image chunks went missing on their way to modtrace"))).toEqual(["load_unhashed medium"]);
    // No image hook at all is the capture's, said once at its start: not a finding per load.
    expect(rules(unhashed("no hook saw the image (--no-hash, or none on this kernel: see modtrace doctor)"))).toEqual([]);
  });
});
