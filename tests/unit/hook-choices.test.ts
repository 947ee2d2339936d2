// Capture-time fallback bookkeeping (loader/hook-choices.ts): which mode each
// event tries next when its programs fail to load or attach.
import { describe, expect, test } from "bun:test";
import type { Plan } from "../../loader/attach-plan";
import { eventByName } from "../../catalogue/events";
import { HookChoices } from "../../loader/hook-choices";

const ev = (name: string) => eventByName(name)!;
const SYSCALLS = ["init_module", "finit_module", "delete_module"].map(ev);

function plan(): Plan {
  return {
    planned: [
      ...SYSCALLS.map((event) => ({ event, mode: "fentry" as const, fallbacks: ["kprobe" as const, "raw" as const] })),
      { event: ev("do_init_module"), mode: "fentry", fallbacks: ["kprobe"] },
      { event: ev("module_load"), mode: "tracepoint", fallbacks: [] },
    ],
    unavailable: [],
    images: { mode: "fentry", fallbacks: ["kprobe"] },
    compat: false,
  };
}

const modes = (c: HookChoices) => Object.fromEntries(c.current().map((x) => [x.event.name, x.mode]));

describe("hook choices", () => {
  test("every planned event starts on its mode; the programs wanted are theirs and the image hooks'", () => {
    const c = new HookChoices(plan(), "auto");
    expect(modes(c)).toEqual({ init_module: "fentry", finit_module: "fentry", delete_module: "fentry", do_init_module: "fentry", module_load: "tracepoint" });
    expect([...c.wantedPrograms()].sort()).toEqual(
      ["fentry_init_module", "fexit_init_module", "fentry_finit_module", "fexit_finit_module", "fentry_delete_module", "fexit_delete_module",
        "fentry_do_init_module", "fexit_do_init_module", "tp_module_load", "fentry_image_read", "fentry_image_load"].sort(),
    );
  });

  test("one syscall program failing to load moves the syscall events together, and nothing else", () => {
    const c = new HookChoices(plan(), "auto");
    expect(c.loadFailed("fexit_finit_module", "Invalid argument")).toBe(true);
    expect(modes(c)).toMatchObject({ init_module: "kprobe", finit_module: "kprobe", delete_module: "kprobe", do_init_module: "fentry", module_load: "tracepoint" });
    expect(c.current().find((x) => x.event.name === "delete_module")!.failures).toEqual(["fentry: loading fexit_finit_module failed: Invalid argument"]);
    expect(c.wantedPrograms().has("ksyscall_init_module")).toBe(true);
  });

  test("an optional syscall event (kexec) whose program fails goes without; the module syscalls stay, and move it with them", () => {
    const p = plan();
    p.planned.push({ event: ev("kexec_file_load"), mode: "fentry", fallbacks: ["kprobe", "raw"] });
    const c = new HookChoices(p, "auto");
    expect(c.loadFailed("fexit_kexec_file_load", "no such function")).toBe(true);
    expect(modes(c)).toMatchObject({ init_module: "fentry", finit_module: "fentry", delete_module: "fentry" });
    expect(modes(c).kexec_file_load).toBeUndefined();
    expect(c.unavailable.map((u) => [u.event.name, u.why])).toEqual([["kexec_file_load", "fentry: loading fexit_kexec_file_load failed: no such function"]]);
    // A module syscall's failure moves an optional event that shares their modes along.
    const d = new HookChoices(p, "auto");
    d.loadFailed("fexit_finit_module", "x");
    expect(modes(d)).toMatchObject({ finit_module: "kprobe", kexec_file_load: "kprobe" });
  });

  test("a program shared by events fails once for all of them, not once per event", () => {
    const c = new HookChoices(plan(), "auto");
    c.loadFailed("fentry_init_module", "x");
    c.loadFailed("ksyscall_init_module", "y");
    expect(modes(c).init_module).toBe("raw");
    // on_sys_exit serves the three: each is used by all of them, each leaves raw once.
    expect(c.loadFailed("on_sys_exit", "z")).toBe(true);
    expect(c.current().map((x) => x.event.name)).toEqual(["do_init_module", "module_load"]);
    expect(c.unavailable.map((u) => [u.event.name, u.why])).toEqual(
      SYSCALLS.map((e) => [e.name, "fentry: loading fentry_init_module failed: x; kprobe: loading ksyscall_init_module failed: y; raw: loading on_sys_exit failed: z"]),
    );
  });

  test("an attach failure says whether another mode is left to load", () => {
    const c = new HookChoices(plan(), "auto");
    expect(c.attachFailed(ev("do_init_module"), "fentry", "attaching failed: EBUSY")).toBe(true);
    expect(modes(c).do_init_module).toBe("kprobe");
    expect(c.attachFailed(ev("do_init_module"), "kprobe", "attaching failed: ENOENT")).toBe(false);
    expect(c.unavailable).toEqual([{ event: ev("do_init_module"), why: "fentry: attaching failed: EBUSY; kprobe: attaching failed: ENOENT" }]);
    expect(c.attachFailed(ev("module_load"), "tracepoint", "attaching failed: ENOENT")).toBe(false);
  });

  test("a program nobody uses is not one program's failure", () => {
    const c = new HookChoices(plan(), "auto");
    expect(c.loadFailed("on_sys_enter", "x")).toBe(false);
    expect(c.loadFailed("", "x")).toBe(false);
  });

  test("the image hooks fall back from fentry to kprobe, then say why none is left", () => {
    const c = new HookChoices(plan(), "auto");
    expect(c.loadFailed("fentry_image_load", "EPERM")).toBe(true);
    expect(c.currentImages()).toEqual({ mode: "kprobe", programs: ["kprobe_image_read", "kprobe_image_load"], failures: ["fentry: loading fentry_image_load failed: EPERM"] });
    expect(c.imagesFailed("attaching failed: ENOENT")).toBe(false);
    expect(c.currentImages()).toEqual({ why: "fentry: loading fentry_image_load failed: EPERM; kprobe: attaching failed: ENOENT" });
    expect(modes(c).init_module).toBe("fentry"); // the events keep theirs
  });

  test("--read-at exit needs only the exit programs", () => {
    const c = new HookChoices({ planned: [{ event: ev("delete_module"), mode: "raw", fallbacks: [] }], unavailable: [], images: { why: "off" }, compat: false }, "exit");
    expect([...c.wantedPrograms()]).toEqual(["on_sys_exit"]);
  });
});
