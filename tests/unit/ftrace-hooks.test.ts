// ftrace_hooked on enabled_functions texts: the line a module's ftrace hook
// left in the 6.1 guest (tests/vm/modules/mt_ftrace_hook.c), BPF's own
// trampolines, and the kernel's own callbacks.
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Finding } from "../../findings/finding";
import { ftraceHooksWatch, moduleCallbacks } from "../../findings/watches/ftrace-hooks";
import { isLivepatch } from "../../findings/watches/livepatch";
import { watchSeverity } from "../../findings/watch";
import { fakeEvent } from "../lib/fake-event";

const HOOKED = "__do_sys_getpgrp (1) R I  \ttramp: 0xffffffffc0418000 (mt_ftrace_handler+0x0/0x58 [mt_ftrace_hook]) ->ftrace_ops_assist_func+0x0/0x100";
const KERNEL = "schedule (1)    \ttramp: 0xffffffffc0400000 (function_trace_call+0x0/0x1a0) ->function_trace_call+0x0/0x1a0";
const BPF = "security_file_open (1)      D \n\tdirect-->bpf_trampoline_6442473386+0x0/0x1000 [bpf]";

test("a module's callback is a hook; the kernel's own and BPF trampolines are not", () => {
  expect(moduleCallbacks([KERNEL, HOOKED, BPF, ""].join("\n"))).toEqual([
    { function: "__do_sys_getpgrp", module: "mt_ftrace_hook", callback: "mt_ftrace_handler+0x0/0x58 [mt_ftrace_hook]" },
  ]);
  expect(moduleCallbacks("")).toEqual([]);
  // A callback named on the line after its function's.
  expect(moduleCallbacks("__x64_sys_kill (1)      D \n\tdirect-->hook+0x0/0x10 [rk]\n")).toEqual([{ function: "__x64_sys_kill", module: "rk", callback: "hook+0x0/0x10 [rk]" }]);
});

test("the watch: in place at the start, named once, with the module's load as evidence when seen later", () => {
  const file = join(mkdtempSync(join(tmpdir(), "modtrace-ftrace-")), "enabled_functions");
  writeFileSync(file, `${KERNEL}\n${HOOKED}\n`);
  const w = ftraceHooksWatch({ enabledFunctions: file });
  const found: Finding[] = [];
  w.scan(1n, (f) => found.push(f));
  w.scan(2n, (f) => found.push(f));
  expect(found.map((f) => [f.rule, f.severity, f.moduleName, f.details?.function, f.details?.inPlaceAtStart])).toEqual([["ftrace_hooked", "critical", "mt_ftrace_hook", "__do_sys_getpgrp", true]]);
  // A second module hooking during the capture, after its load was seen.
  w.observe(fakeEvent({ eventName: "module_load", module: "other", callId: 7n, timestamp: 70n }));
  writeFileSync(file, `${HOOKED}\n${HOOKED.replaceAll("mt_ftrace_hook", "other").replace("__do_sys_getpgrp", "__x64_sys_kill")}\n`);
  w.scan(3n, (f) => found.push(f));
  expect(found.slice(1).map((f) => [f.moduleName, f.details?.function, f.details?.inPlaceAtStart, f.evidence.map((e) => e.callId)])).toEqual([["other", "__x64_sys_kill", false, [7n]]]);
});

test("a scan judges the kernel as read() found it, with the loads observed since: a load recorded before the reading is cited, whatever the kernel shows by the judging", () => {
  const file = join(mkdtempSync(join(tmpdir(), "modtrace-ftrace-")), "enabled_functions");
  writeFileSync(file, `${KERNEL}\n`);
  const w = ftraceHooksWatch({ enabledFunctions: file });
  const found: Finding[] = [];
  w.scan(1n, (f) => found.push(f));
  // The reading sees the hook; its module's load is read from the rings after it.
  const hook = HOOKED.replaceAll("mt_ftrace_hook", "other");
  writeFileSync(file, `${KERNEL}\n${hook}\n`);
  w.read!();
  writeFileSync(file, `${KERNEL}\n`);
  w.observe(fakeEvent({ eventName: "module_load", module: "other", callId: 7n, timestamp: 70n }));
  w.scan(2n, (f) => found.push(f));
  expect(found.map((f) => [f.moduleName, f.details?.inPlaceAtStart, f.evidence.map((e) => e.callId)])).toEqual([["other", false, [7n]]]);
  // No reading taken: the scan reads the kernel itself, once.
  writeFileSync(file, `${KERNEL}\n${hook.replace("__do_sys_getpgrp", "__x64_sys_kill")}\n`);
  w.scan(3n, (f) => found.push(f));
  w.scan(4n, (f) => found.push(f));
  expect(found.slice(1).map((f) => f.details?.function)).toEqual(["__x64_sys_kill"]);
});

// As the 6.1 guest showed it with mt_ftrace_hook and mt_kprobe_hook both on getdents64.
const SHARED = "__x64_sys_getdents64 (2) R I   ->arch_ftrace_ops_list_func+0x0/0x1d0";

test("several ops on a function rootkits hook, one IP-modifying: its owner hidden, reported (high); elsewhere, or once named, not", () => {
  const isSensitive = (fn: string) => fn.startsWith("__x64_sys_");
  expect(moduleCallbacks(SHARED, isSensitive)).toEqual([{ function: "__x64_sys_getdents64", callback: "not shown: 2 ftrace ops share the function, one of them IP-modifying" }]);
  expect(moduleCallbacks(SHARED)).toEqual([]);
  expect(moduleCallbacks(SHARED.replace(" R I ", " R   "), isSensitive)).toEqual([]);
  expect(moduleCallbacks("vfs_read (2) R I   ->arch_ftrace_ops_list_func+0x0/0x1d0", isSensitive)).toEqual([]);

  const file = join(mkdtempSync(join(tmpdir(), "modtrace-ftrace-")), "enabled_functions");
  writeFileSync(file, `${SHARED}\n`);
  const w = ftraceHooksWatch({ enabledFunctions: file, hookedFunctions: [] });
  const found: Finding[] = [];
  w.scan(1n, (f) => found.push(f));
  expect(found.map((f) => [f.severity, f.moduleName, f.details?.function, f.details?.case, f.details?.inPlaceAtStart])).toEqual([["high", undefined, "__x64_sys_getdents64", "owner_hidden", true]]);
  expect(watchSeverity({ ftrace_hooked: "critical", "ftrace_hooked.owner_hidden": "high" }, found[0])).toBe("high");

  // Named first, then a kprobe joins it: the owner is known already.
  const named = join(mkdtempSync(join(tmpdir(), "modtrace-ftrace-")), "enabled_functions");
  writeFileSync(named, `${HOOKED.replace("__do_sys_getpgrp", "__x64_sys_getdents64")}\n`);
  const w2 = ftraceHooksWatch({ enabledFunctions: named });
  const found2: Finding[] = [];
  w2.scan(1n, (f) => found2.push(f));
  writeFileSync(named, `${SHARED}\n`);
  w2.scan(2n, (f) => found2.push(f));
  expect(found2.map((f) => [f.moduleName, f.details?.case])).toEqual([["mt_ftrace_hook", undefined]]);
});

test("no tracefs: unavailable, and says how to mount it", () => {
  expect(ftraceHooksWatch({ enabledFunctions: "/nonexistent/enabled_functions" }).unavailable).toContain("mount -t tracefs");
});

test("a live patch the kernel enabled is told apart: its own severity case, not a rootkit's hook", () => {
  const dir = mkdtempSync(join(tmpdir(), "klp-"));
  const modules = join(dir, "modules");
  writeFileSync(modules, "kpatch_fix 16384 1 - Live 0xffffffffc0a00000 (OEK)\nrootkit 16384 0 - Live 0xffffffffc0b00000 (OE)\n");
  mkdirSync(join(dir, "livepatch", "kpatch_fix"), { recursive: true });
  mkdirSync(join(dir, "livepatch", "rootkit"), { recursive: true }); // a directory alone: no K taint
  expect(isLivepatch("kpatch_fix", { livepatchDir: join(dir, "livepatch"), procModules: modules })).toBe(true);
  expect(isLivepatch("rootkit", { livepatchDir: join(dir, "livepatch"), procModules: modules })).toBe(false);
  expect(isLivepatch("absent", { livepatchDir: join(dir, "livepatch"), procModules: modules })).toBe(false);
  expect(watchSeverity({ ftrace_hooked: "critical", "ftrace_hooked.livepatch": "info" }, { rule: "ftrace_hooked", severity: "critical", techniques: [], description: "", timestamp: 0n, evidence: [], details: { case: "livepatch" } })).toBe("info");
});

test("a callback no symbol names (its module gone from the kernel's lookup too): named by the code range its load recorded, else unowned module memory", () => {
  const RAW = "__x64_sys_getdents64 (1) R I  \ttramp: 0xffffffffc0418000 (0xffffffffc0c00010) ->ftrace_ops_assist_func+0x0/0x100";
  const DIRECT = "__x64_sys_kill (1)      D \n\tdirect-->0xffffffffc0d00000";
  expect(moduleCallbacks(`${RAW}\n${DIRECT}\n`)).toEqual([
    { function: "__x64_sys_getdents64", address: 0xffffffffc0c00010n, callback: "0xffffffffc0c00010" },
    { function: "__x64_sys_kill", address: 0xffffffffc0d00000n, callback: "0xffffffffc0d00000" },
  ]);
  const dir = mkdtempSync(join(tmpdir(), "modtrace-ftrace-"));
  writeFileSync(join(dir, "enabled_functions"), `${RAW}\n${DIRECT}\n`);
  writeFileSync(join(dir, "modules"), "mt_plain 16384 0 - Live 0xffffffffc0a00000 (OE)\n");
  const w = ftraceHooksWatch({ enabledFunctions: join(dir, "enabled_functions"), procModules: join(dir, "modules") });
  w.observe(fakeEvent({ eventName: "module_load", module: "rk", callId: 9n, timestamp: 90n, args: [0xffffffffc0c00000n, 0x1000n] }));
  w.observe(fakeEvent({ eventName: "do_init_module", module: "rk", callId: 9n, timestamp: 91n }));
  const found: Finding[] = [];
  w.scan(1n, (f) => found.push(f));
  expect(found.map((f) => [f.severity, f.moduleName, f.details?.function, f.details?.case, f.details?.owner, f.evidence.map((e) => e.callId)])).toEqual([
    ["critical", "rk", "__x64_sys_getdents64", "unnamed_callback", "seen", [9n, 9n]],
    ["critical", undefined, "__x64_sys_kill", "unnamed_callback", "unowned", []],
  ]);
  expect(found[0].description).toContain("in the code of module rk, which this capture saw load");
  expect(found[1].description).toContain("in module memory no listed module owns");
});
