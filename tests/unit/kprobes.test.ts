// kprobe_on_sensitive on kprobes/list texts written here, in the kernel's
// format (kernel/kprobes.c, report_probe): which probes are on functions
// rootkits hook, and the module syscalls monitors probe left alone.
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kprobesWatch, parseKprobes, sensitive } from "../../findings/watches/kprobes";
import type { Finding } from "../../findings/finding";
import { kprobeOwners, type KprobeLayout } from "../../findings/watches/kprobe-owners";
import { parseKallsyms } from "../../findings/watches/kallsyms";
import { ModuleLoads } from "../../findings/watches/module-loads";
import { ownersNow } from "../../findings/watches/module-ranges";
import { elfHeader } from "../lib/fake-kcore";

const LIST = [
  "ffffffff8b4c1e30  k  __x64_sys_getdents64+0x0    [FTRACE]",
  "ffffffff8b3b1a20  r  __x64_sys_finit_module+0x0    [FTRACE]",
  "ffffffff8b3b1a20  k  __x64_sys_finit_module+0x0    [FTRACE]",
  "ffffffff8b5f0000  k  filldir64+0x4  ",
  "ffffffff8b5f1000  k  do_exit+0x0    [DISABLED][FTRACE]",
  "ffffffffc0a01000  k  mt_fn+0x0  mt_mod [GONE]",
].join("\n");

test("kprobes/list lines: kind, function, offset, flags", () => {
  expect(parseKprobes(LIST).map((p) => [p.kind, p.symbol, p.offset, p.flags.join(",")])).toEqual([
    ["kprobe", "__x64_sys_getdents64", 0, "FTRACE"],
    ["kretprobe", "__x64_sys_finit_module", 0, "FTRACE"],
    ["kprobe", "__x64_sys_finit_module", 0, "FTRACE"],
    ["kprobe", "filldir64", 4, ""],
    ["kprobe", "do_exit", 0, "DISABLED,FTRACE"],
    ["kprobe", "mt_fn", 0, "GONE"],
  ]);
});

test("sensitive: syscall handlers and the listing functions, not the module syscalls monitors probe", () => {
  expect(sensitive("__x64_sys_getdents64", [])).toBe("a syscall handler");
  expect(sensitive("__ia32_sys_kill", [])).toBe("a syscall handler");
  expect(sensitive("__x64_sys_finit_module", [])).toBeUndefined();
  expect(sensitive("__ia32_compat_sys_kexec_load", [])).toBeUndefined();
  expect(sensitive("filldir64", ["filldir64"])).toContain("lists files");
  expect(sensitive("do_exit", ["filldir64"])).toBeUndefined();
});

test("the watch: each sensitive probe once, in place at the first scan or new later; gone ones left out", () => {
  const dir = mkdtempSync(join(tmpdir(), "kprobes-"));
  const list = join(dir, "list");
  writeFileSync(list, LIST);
  const w = kprobesWatch(["filldir64"], { list, layout: "no layout in this test" });
  const found: Finding[] = [];
  w.scan(1n, (f) => found.push(f));
  w.scan(2n, (f) => found.push(f));
  writeFileSync(list, `${LIST}\nffffffff8b4c2000  r  __x64_sys_kill+0x0    [FTRACE]\n`);
  w.scan(3n, (f) => found.push(f));
  expect(found.map((f) => [f.details!.function, f.details!.kind, f.details!.inPlaceAtStart])).toEqual([
    ["__x64_sys_getdents64", "kprobe", true],
    ["filldir64", "kprobe", true],
    ["__x64_sys_kill", "kretprobe", false],
  ]);
  expect(kprobesWatch([], { list: join(dir, "none") }).unavailable).toContain("kprobes");
});

// The kernel's table of probes, as kernel/kprobes.c keeps it, in a kcore-like
// file: hash chains of struct kprobe, an aggregate with two probes on its
// list, and a kretprobe. Offsets of a made-up layout, as BTF would give them.
const L: KprobeLayout = { hlist: 0, list: 16, addr: 40, preHandler: 64, retProbe: 0, retHandler: 112 };
const MEM = 0xffffffff82000000n;
const GETDENTS = 0xffffffff81100000n, KILL = 0xffffffff81200000n;
const AGGR = 0xffffffff81300000n, KRET = 0xffffffff81300100n, DISPATCH = 0xffffffff81300200n;
const HOOK_PRE = 0xffffffffc0a00010n, HOOK_RET = 0xffffffffc0a00100n, HIDDEN = 0xffffffffc0c00000n;
const KALLSYMS = [
  `${GETDENTS.toString(16)} T __x64_sys_getdents64`,
  `${KILL.toString(16)} T __x64_sys_kill`,
  `${AGGR.toString(16)} t aggr_pre_handler`,
  `${KRET.toString(16)} t pre_handler_kretprobe.isra.0`,
  `${DISPATCH.toString(16)} t kprobe_dispatcher`,
  "ffffffff81300300 t after_dispatcher",
  `${MEM.toString(16)} d kprobe_table`,
  "ffffffff82000200 d after_table",
  `${(HOOK_PRE - 0x10n).toString(16)} t mt_kprobe_hook_pre\t[mt_kprobe_hook]`,
  `${(HOOK_RET - 0x0n).toString(16)} t mt_kprobe_hook_ret\t[mt_kprobe_hook]`,
].join("\n");

function fakeTable(dir: string): string {
  const size = 0x8000;
  const mem = new Uint8Array(size);
  const dv = new DataView(mem.buffer);
  const put = (addr: bigint, v: bigint) => dv.setBigUint64(Number(addr - MEM), v, true);
  const probe = (at: bigint, addr: bigint, pre: bigint) => (put(at + BigInt(L.addr), addr), put(at + BigInt(L.preHandler), pre));
  // Chain 3: a module's kprobe on getdents64.
  const kp = MEM + 0x1000n;
  put(MEM + 3n * 8n, kp + BigInt(L.hlist));
  probe(kp, GETDENTS, HOOK_PRE);
  // Chain 5: an aggregate on kill (a tracer's probe and one in unowned module memory), then a kretprobe.
  const aggr = MEM + 0x2000n, c1 = MEM + 0x3000n, c2 = MEM + 0x4000n, ret = MEM + 0x5000n;
  put(MEM + 5n * 8n, aggr + BigInt(L.hlist));
  probe(aggr, KILL, AGGR);
  put(aggr + BigInt(L.hlist), ret + BigInt(L.hlist));
  put(aggr + BigInt(L.list), c1 + BigInt(L.list));
  put(c1 + BigInt(L.list), c2 + BigInt(L.list));
  put(c2 + BigInt(L.list), aggr + BigInt(L.list));
  probe(c1, KILL, DISPATCH);
  probe(c2, KILL, HIDDEN);
  probe(ret + BigInt(L.retProbe), GETDENTS, KRET);
  put(ret + BigInt(L.retHandler), HOOK_RET);
  const head = elfHeader(MEM, BigInt(size), 0x1000n);
  const file = new Uint8Array(0x1000 + size);
  file.set(head);
  file.set(mem, 0x1000);
  const kcore = join(dir, "kcore");
  writeFileSync(kcore, file);
  return kcore;
}

test("owners from the kernel's table of probes: a module's handler, a tracer's (kprobe events), one in unowned module memory, and a kretprobe's return handler", () => {
  const dir = mkdtempSync(join(tmpdir(), "kprobes-"));
  const kcore = fakeTable(dir);
  writeFileSync(join(dir, "modules"), "mt_kprobe_hook 16384 0 - Live 0xffffffffc0a00000 (OE)\n");
  const who = ownersNow(new ModuleLoads(), join(dir, "modules"));
  const owners = kprobeOwners(kcore, parseKallsyms(KALLSYMS), L, who);
  expect(owners.map((o) => [o.addr.toString(16), o.kind, o.owner, o.where, o.module ?? null])).toEqual([
    [GETDENTS.toString(16), "kprobe", "mt_kprobe_hook", "mt_kprobe_hook_pre+0x10 [mt_kprobe_hook]", "mt_kprobe_hook"],
    [KILL.toString(16), "kprobe", "kprobe events", "kprobe_dispatcher", null],
    [KILL.toString(16), "kprobe", "unowned module memory", "0xffffffffc0c00000 in module memory no listed module owns", null],
    [GETDENTS.toString(16), "kretprobe", "mt_kprobe_hook", "mt_kprobe_hook_ret [mt_kprobe_hook]", "mt_kprobe_hook"],
  ]);

  // The watch: each finding with its owners, the module's high, the unowned critical, a tracer's medium.
  const list = join(dir, "list");
  writeFileSync(list, [`${GETDENTS.toString(16)}  k  __x64_sys_getdents64+0x0    [FTRACE]`, `${KILL.toString(16)}  k  __x64_sys_kill+0x0    [FTRACE]`, `${GETDENTS.toString(16)}  r  __x64_sys_getdents64+0x0    [FTRACE]`].join("\n"));
  writeFileSync(join(dir, "kallsyms"), KALLSYMS);
  const w = kprobesWatch([], { list, kcore, kallsyms: join(dir, "kallsyms"), procModules: join(dir, "modules"), layout: L });
  const found: Finding[] = [];
  w.scan(1n, (f) => found.push(f));
  // One finding per owner: the aggregate on kill holds a tracer's probe and one in unowned memory.
  expect(found.map((f) => [f.details!.function, f.details!.kind, f.severity, f.moduleName ?? null, f.details!.case ?? null, (f.details!.owners as any[]).map((o) => o.owner)])).toEqual([
    ["__x64_sys_getdents64", "kprobe", "high", "mt_kprobe_hook", "module", ["mt_kprobe_hook"]],
    ["__x64_sys_kill", "kprobe", "medium", null, null, ["kprobe events"]],
    ["__x64_sys_kill", "kprobe", "critical", null, "unowned_memory", ["unowned module memory"]],
    ["__x64_sys_getdents64", "kretprobe", "high", "mt_kprobe_hook", "module", ["mt_kprobe_hook"]],
  ]);
  // The same probes at the next scan: nothing new.
  w.scan(2n, (f) => found.push(f));
  expect(found.length).toBe(4);
  expect(found[0].description).toContain("registered by mt_kprobe_hook (handler mt_kprobe_hook_pre+0x10 [mt_kprobe_hook])");

  // No table to read: the probe is still reported, its owner said unknown.
  const blind = kprobesWatch([], { list, kcore: join(dir, "none"), kallsyms: join(dir, "kallsyms"), layout: L });
  const unknown: Finding[] = [];
  blind.scan(1n, (f) => unknown.push(f));
  expect(unknown.map((f) => [f.severity, f.details!.ownerUnknown !== undefined])).toEqual([["medium", true], ["medium", true], ["medium", true]]);
  expect(unknown[0].description).toContain("the kernel's table of probes could not be read");
});
