// The kernel watches on this machine's kernel: where it lacks what a watch
// needs, the watch says so instead of failing. The expectation comes from the
// kernel itself (does it have /proc/modules, /proc/kcore), not from a machine name.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { hiddenModuleWatch } from "../../findings/watches/hidden-module";
import { syscallDispatchWatch } from "../../findings/watches/syscall-dispatch";
import { runModtrace } from "../lib/modtrace";
import { Capture } from "./harness";

test("hidden_module: available exactly when the kernel has /proc/modules, and a scan of a quiet kernel finds nothing", () => {
  const w = hiddenModuleWatch();
  if (!existsSync("/proc/modules")) {
    expect(w.unavailable).toContain("CONFIG_MODULES=n");
    return;
  }
  expect(w.unavailable).toBeUndefined();
  const found: unknown[] = [];
  w.scan(1n, (f) => found.push(f));
  w.scan(2n, (f) => found.push(f));
  expect(found).toEqual([]);
});

test("syscall_dispatch_changed: unavailable without /proc/kcore, saying so; otherwise a rescan finds no change", () => {
  const w = syscallDispatchWatch();
  if (!existsSync("/proc/kcore")) {
    expect(w.unavailable).toContain("no /proc/kcore");
    return;
  }
  if (w.unavailable) {
    // kcore is there but unreadable: lockdown, or kallsyms without a table.
    expect(w.unavailable).toMatch(/kcore|kallsyms|sys_call_table/);
    return;
  }
  const found: unknown[] = [];
  w.scan(1n, (f) => found.push(f));
  expect(found).toEqual([]);
});

test("modtrace scan on this kernel: each check that cannot run says why; with none at all, exit 1 and no claim of a clean kernel", () => {
  const r = runModtrace(["scan", "--json"], { timeout: 60_000 });
  const report = JSON.parse(r.stdout);
  const canCheck = report.modules !== null || report.checked.length > 0;
  // Each check either ran or says why not.
  expect([...report.checked, ...report.unavailable.map((u: any) => u.rules)].flat()).toEqual(expect.arrayContaining(["hidden_module", "syscall_hooked", "ftrace_hooked", "bpf_dangerous_helper"]));
  expect(report.modules === null).toBe(!existsSync("/proc/modules"));
  for (const u of report.unavailable) expect(u.why.length).toBeGreaterThan(10);
  expect(report.unavailable.flatMap((u: any) => u.rules)).toEqual(expect.arrayContaining(existsSync("/proc/kcore") ? [] : ["syscall_hooked"]));
  if (!canCheck) {
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("nothing could be checked on this kernel");
  } else expect([0, 3]).toContain(r.exitCode ?? -1);
  expect(runModtrace(["scan", "--fail-on", "sometimes"]).exitCode).toBe(2);
});

test("a capture names every rule a watch that cannot run takes with it (syscall_hooked with the dispatch watch)", async () => {
  const c = await Capture.start(["--comm", "mt-trigger", "-o", "json"]);
  const done = await c.stop();
  expect(done.exitCode).toBe(0);
  if (!existsSync("/proc/kcore")) expect(done.stderr).toContain("findings syscall_hooked, syscall_hook_removed, syscall_dispatch_changed unavailable: no /proc/kcore");
  else expect(done.stderr).not.toMatch(/finding \S+ unavailable: no \/proc\/kcore/);
});
