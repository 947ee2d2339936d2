// kprobe_on_sensitive on kprobes/list texts written here, in the kernel's
// format (kernel/kprobes.c, report_probe): which probes are on functions
// rootkits hook, and the module syscalls monitors probe left alone.
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kprobesWatch, parseKprobes, sensitive } from "../../cmd/findings/watches/kprobes";
import type { Finding } from "../../cmd/findings/finding";

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
  const w = kprobesWatch(["filldir64"], { list });
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
