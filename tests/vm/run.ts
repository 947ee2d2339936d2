// Runs a shell script as root inside a QEMU VM (software emulation) that boots
// Debian's kernel with a tiny initramfs: busybox, kmod, glibc, a subset of the
// kernel's modules, and dist/modtrace at /bin/modtrace. Nothing else: no libbpf,
// libelf or zlib (building the image fails if any of them would be in it).
//
//   bun tests/vm/run.ts SCRIPT.sh [GUEST_PATH=HOST_PATH ...]
//     boots, runs SCRIPT.sh, prints the console, writes the files the script put
//     in $OUT into ./vm-out/, and exits with the script's exit code.
//
//   import { runInVm } from "./run";
//   const r = await runInVm({ script: "modtrace doctor > $OUT/doctor.txt", files: { "/root/x": "/tmp/x" } });
//   r.exitCode; r.console; r.outputs["doctor.txt"];
//
// In the guest the script runs with `sh` from /root with OUT=/out (insmod, rmmod,
// modprobe, lsmod, depmod and modinfo are shell functions that run kmod's tools:
// see PRELUDE for why, and use /sbin/insmod etc. under exec or sh -c); every regular
// file it leaves under $OUT comes back in `outputs`, keyed by its path relative to
// $OUT. Its standard output and error go to the serial console (`console`, which
// also has the kernel's messages). The results travel back on a second serial
// port that nothing else writes to (ttyS1, to a host file), base64-encoded between
// markers with each file's size and MD5, which the host checks.
//
// The kernel and its modules come from tests/vm/prepare.sh (run by runInVm when the
// cache is not ready). The base image (everything but the script and its files) is
// cached under CACHE/images, keyed by the content of what goes into it.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync,
  realpathSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync,
} from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { tmpdir } from "node:os";

export const REPO = resolve(import.meta.dir, "../..");
export const DEFAULT_CACHE = process.env.MODTRACE_VM_CACHE ?? join(REPO, ".cache/vm");

/**
 * Modules in the image, each with everything modules.dep (and modules.softdep)
 * says it needs:
 * - dummy: insmod/rmmod (no dependencies; takes numdummies=N).
 * - 8021q: the modprobe chain: 8021q needs garp, mrp, stp and llc, and garp needs
 *   stp, which needs llc (two levels), so modprobe 8021q loads five modules.
 * - isofs: the kernel's own autoload. `mount -t iso9660 …` makes the kernel call
 *   request_module("fs-iso9660"), which runs /sbin/modprobe (CONFIG_MODPROBE_PATH)
 *   from a kworker; modules.alias maps fs-iso9660 to isofs, which needs cdrom.
 *   The mount itself may then fail (no device): the loads happen first.
 */
export const DEFAULT_MODULES = ["dummy", "8021q", "isofs"];

/** Libraries the image must never hold where a program looks for them: the binary has to work without them. */
const FORBIDDEN_LIBRARIES = /^(libbpf|libelf|libz)\.so/;
/** Where the tools' binaries and shared libraries go: off the loader's default path. */
const TOOLS_DIR = "usr/lib/vm-tools";
/** kmod's tools; busybox's applets of the same names are not linked. */
const KMOD_TOOLS = ["insmod", "rmmod", "modprobe", "lsmod", "depmod", "modinfo"];

export interface VmOptions {
  /** Shell script run with `sh` in the guest (as root, cwd /root, OUT=/out). */
  script: string;
  /** Extra files for the guest: guest path -> host path. */
  files?: Record<string, string>;
  /** Kill QEMU after this many seconds (default 300). */
  timeoutSec?: number;
  /** Modules (beside DEFAULT_MODULES) to put in the image, with their dependencies. */
  modules?: string[];
  /** Guest memory in MiB (default 1536). */
  memoryMiB?: number;
  /** Cache directory of prepare.sh (default .cache/vm, or $MODTRACE_VM_CACHE). */
  cacheDir?: string;
  /** The binary to install at /bin/modtrace (default dist/modtrace). */
  modtrace?: string;
  /** Host programs the script needs (bun, python3, ...): guest path -> host
   * program. Their shared libraries go to a directory of their own (TOOLS_DIR)
   * that only they search, so modtrace is still shown to need glibc alone. */
  tools?: Record<string, string>;
  /** Host files and directories copied whole, at the same paths (a tool's own
   * data: python's standard library, ...). */
  trees?: string[];
  /** QEMU's -cpu (default "max": what TCG can emulate, AVX2 included, which Bun's x64 build needs). */
  cpu?: string;
  /** QEMU's -accel (default DEFAULT_ACCEL). */
  accel?: string;
}

export interface VmResult {
  /** The script's exit status. */
  exitCode: number;
  /** Everything on the serial console: kernel messages, the script's stdout and stderr. */
  console: string;
  /** Files the script left under $OUT, by path relative to $OUT. */
  outputs: Record<string, Uint8Array>;
  /** The guest's kernel log (dmesg) after the script. */
  dmesg: string;
  /** Wall-clock seconds from starting QEMU to its exit. */
  seconds: number;
}

/**
 * One host thread runs both vCPUs. Under multi-threaded TCG (QEMU's default),
 * 2-4 in 100 captures died of a signal inside JIT-compiled code: SIGILL at a
 * user address, SIGSEGV at a kernel address from user mode, aborts. With
 * thread=single and the runtime's own defaults (no BUN_JSC_* fix at all),
 * tests/vm/crash-hunt.ts ran 60 captures and 60 reads with no crash, at the
 * same speed per round. A JIT writes code on one thread and runs it on
 * another: the cross-vCPU code changes MTTCG is known to mishandle (a guest
 * fault in generated code that thread=single avoids, espressif/qemu#175);
 * no crash was ever seen on real hardware.
 */
export const DEFAULT_ACCEL = "tcg,thread=single";

export class VmError extends Error {
  constructor(message: string, public console: string) {
    super(`${message}\n--- last console lines ---\n${console.split("\n").slice(-40).join("\n")}`);
  }
}

interface Prepared {
  kernelPackage: string;
  kernelDeb: string;
  kernelVersion: string;
  vmlinuz: string;
  modulesDir: string;
}

/** A guest script of the tier (tests/vm/NAME): these variables, then
 * guest-lib.sh (step() and where things are), then the script. */
export function guestScript(file: string, vars: Record<string, string> = {}): string {
  return (
    Object.entries(vars).map(([k, v]) => `${k}="${v}"\n`).join("") +
    readFileSync(join(REPO, "tests/vm/guest-lib.sh"), "utf8") +
    readFileSync(join(REPO, "tests/vm", file), "utf8")
  );
}

/** A module of the kernel package compressed with xz into a scratch file, as
 * a distribution might ship it: its path. */
export function xzCopy(modulesDir: string, rel: string): string {
  const xz = spawnSync("xz", ["-c", join(modulesDir, rel)], { maxBuffer: 1 << 26 });
  if (xz.status !== 0) throw new Error(`xz failed: ${xz.stderr}`);
  const path = join(mkdtempSync(join(tmpdir(), "modtrace-vm-")), `${basename(rel)}.xz`);
  writeFileSync(path, xz.stdout);
  return path;
}

/** A file the guest script left in $OUT, as text; a missing one is an error that shows the console. */
export function outputText(r: VmResult, name: string): string {
  const data = r.outputs[name];
  if (!data) throw new Error(`the guest sent no ${name}; console:\n${r.console}`);
  return new TextDecoder().decode(data);
}

/** Why the vm tier cannot run here, or undefined when it can. */
export function vmCannotRun(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") return "needs an x86-64 Linux host";
  if (process.getuid?.() !== 0) return "needs root (prepare.sh installs Debian packages)";
  if (!existsSync(join(REPO, "dist/modtrace"))) return "dist/modtrace is not built";
  if (!existsSync("/usr/bin/apt-get") && !existsSync(join(DEFAULT_CACHE, "prepared.stamp")))
    return "needs Debian's apt-get to fetch the kernel and QEMU";
  return undefined;
}

export function prepare(cacheDir = DEFAULT_CACHE): Prepared {
  const r = spawnSync(join(REPO, "tests/vm/prepare.sh"), [cacheDir], { stdio: ["ignore", "inherit", "pipe"] });
  const err = r.stderr?.toString() ?? "";
  if (r.status !== 0) throw new Error(`tests/vm/prepare.sh failed (${r.status ?? r.signal}):\n${err}`);
  if (!/\(cached\)/.test(err)) process.stderr.write(err);
  return JSON.parse(readFileSync(join(cacheDir, "vm.json"), "utf8"));
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string | Buffer } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, maxBuffer: 1 << 30 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr?.toString() ?? ""}`);
  return r.stdout.toString();
}

function which(cmd: string): string {
  return realpathSync(run("sh", ["-c", `command -v ${cmd}`]).trim());
}

/** The shared libraries `ldd` lists for a binary: [path as listed, real file]. */
function sharedLibraries(binary: string): Array<{ listed: string; file: string }> {
  const out = run("ldd", [binary]);
  const libs: Array<{ listed: string; file: string }> = [];
  for (const line of out.split("\n")) {
    const arrow = /^\s*(\S+) => (\/\S+) \(/.exec(line);
    const bare = /^\s*(\/\S+) \(/.exec(line);
    const listed = arrow ? arrow[2] : bare ? bare[1] : undefined;
    if (listed) libs.push({ listed, file: realpathSync(listed) });
    else if (/not found/.test(line)) throw new Error(`ldd ${binary}: ${line.trim()}`);
  }
  return libs;
}

/** Module name -> path relative to the modules dir, and each module's dependencies. */
function moduleIndex(modulesDir: string) {
  const norm = (s: string) => s.replace(/-/g, "_");
  const nameOf = (rel: string) => norm(basename(rel).replace(/\.ko(\.(xz|zst|gz))?$/, ""));
  const path = new Map<string, string>();
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(join(modulesDir, "modules.dep"), "utf8").split("\n")) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const name = nameOf(m[1]);
    path.set(name, m[1]);
    deps.set(name, m[2].split(/\s+/).filter(Boolean).map(nameOf));
  }
  const aliases = new Map<string, string>();
  for (const line of readFileSync(join(modulesDir, "modules.alias"), "utf8").split("\n")) {
    const m = /^alias (\S+) (\S+)$/.exec(line);
    if (m && !aliases.has(m[1])) aliases.set(m[1], norm(m[2]));
  }
  for (const line of readFileSync(join(modulesDir, "modules.softdep"), "utf8").split("\n")) {
    const m = /^softdep (\S+) (.*)$/.exec(line);
    if (!m) continue;
    const soft = m[2].split(/\s+/).filter((w) => w && !w.endsWith(":"))
      .map((w) => (path.has(norm(w)) ? norm(w) : aliases.get(w)))
      .filter((w): w is string => !!w);
    deps.set(norm(m[1]), [...(deps.get(norm(m[1])) ?? []), ...soft]);
  }
  return { path, deps, norm };
}

function moduleClosure(modulesDir: string, wanted: string[]): string[] {
  const { path, deps, norm } = moduleIndex(modulesDir);
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    if (!path.has(name)) throw new Error(`no module ${name} in ${modulesDir}/modules.dep`);
    seen.add(name);
    for (const d of deps.get(name) ?? []) visit(d);
  };
  for (const w of wanted) visit(norm(w));
  return [...seen].map((n) => path.get(n)!).sort();
}

const INIT = `#!/bin/sh
# /init of the modtrace vm image: mount, run /vm/script.sh, send back $OUT, power off.
PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PATH HOME=/root OUT=/out TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
ln -sf /proc/self/fd /dev/fd
hostname modtrace-vm
ip link set lo up 2>/dev/null
# Kernel messages stay in dmesg (sent back) instead of cutting into the script's lines.
dmesg -n 1
echo "@@vm: kernel $(uname -r), running the script"
cd /root
sh /vm/prelude.sh </dev/null
rc=$?
echo "@@vm: script exited $rc"
dmesg > /vm/dmesg.txt
stty -F /dev/ttyS1 raw -echo 2>/dev/null
{
  echo "@@VM-RESULTS-BEGIN"
  echo "exit $rc"
  emit() { # name file
    echo "file $(wc -c < "$2") $(md5sum < "$2" | cut -d' ' -f1) $1"
    base64 "$2"
    echo "@@end"
  }
  emit .dmesg /vm/dmesg.txt
  cd /out && find . -type f | while IFS= read -r f; do emit "\${f#./}" "$f"; done
  echo "@@VM-RESULTS-END"
} > /dev/ttyS1
sync
poweroff -f
# poweroff should not return; with -no-reboot a reboot also ends QEMU.
sleep 2; reboot -f
`;

// Debian's busybox-static runs its own applets before anything on PATH (its sh is
// built with FEATURE_SH_STANDALONE and FEATURE_PREFER_APPLETS), and it has insmod,
// rmmod, modprobe, lsmod, depmod and modinfo applets, so a plain `insmod` in a
// script would be busybox's, not kmod's. The script is sourced after functions that
// name kmod's tools by path. A command run by `exec`, `sh -c`, xargs, ... must use
// the path itself (/sbin/insmod), or it gets busybox's applet.
const PRELUDE = `# Runs /vm/script.sh with kmod's module tools in front of busybox's applets.
${KMOD_TOOLS.map((t) => `${t}() { /sbin/${t} "$@"; }`).join("\n")}
. /vm/script.sh
`;

/** Writes a newc cpio of a directory (owner root) to a file. */
function cpio(dir: string, out: string, compress: boolean) {
  const list = run("find", [".", "-mindepth", "1"], { cwd: dir }).split("\n").filter(Boolean).sort().join("\n") + "\n";
  const archive = spawnSync("cpio", ["-o", "-H", "newc", "-R", "0:0", "--quiet"], { cwd: dir, input: list, maxBuffer: 1 << 30 });
  if (archive.status !== 0) throw new Error(`cpio failed: ${archive.stderr}`);
  if (!compress) return writeFileSync(out, archive.stdout);
  const gz = spawnSync("gzip", ["-1", "-n", "-c"], { input: archive.stdout, maxBuffer: 1 << 30 });
  if (gz.status !== 0) throw new Error(`gzip failed: ${gz.stderr}`);
  writeFileSync(out, gz.stdout);
}

function walkFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = join(prefix, e.name);
    if (e.isDirectory()) out.push(...walkFiles(join(dir, e.name), rel));
    else out.push(rel);
  }
  return out;
}

/** Fails when a library the binary must not need would be in the image (bar
 * the tools' own directory, which only the tools' wrappers search). */
export function assertNoForbiddenLibraries(root: string) {
  const bad = walkFiles(root).filter((f) => FORBIDDEN_LIBRARIES.test(basename(f)) && !f.startsWith(`${TOOLS_DIR}/`));
  if (bad.length) throw new Error(`the vm image would contain ${bad.join(", ")}: modtrace must run with glibc alone`);
}

function fileHash(h: ReturnType<typeof createHash>, file: string) {
  h.update(file + "\0");
  h.update(readFileSync(file));
}

/** Builds (or reuses) the base image; returns its path. */
export function baseImage(prep: Prepared, opts: { modules: string[]; modtrace: string; cacheDir: string; compress?: boolean; tools?: Record<string, string>; trees?: string[] }): string {
  // Uncompressed by default: the guest then skips ~2.5 s of gunzip under emulation
  // (the image is ~120 MB, mostly modtrace). MODTRACE_VM_GZIP=1 compresses it.
  const compress = opts.compress ?? process.env.MODTRACE_VM_GZIP === "1";
  const modtrace = realpathSync(opts.modtrace);
  const busybox = realpathSync("/bin/busybox");
  const kmod = which("kmod");
  const modules = moduleClosure(prep.modulesDir, opts.modules);
  const libs = new Map<string, { listed: string; file: string }>();
  for (const bin of [modtrace, kmod]) for (const l of sharedLibraries(bin)) libs.set(l.listed, l);

  const h = createHash("sha256");
  h.update(INIT + "\0" + PRELUDE + "\0" + prep.kernelVersion + "\0" + modules.join(",") + "\0" + String(compress));
  const tools = Object.entries(opts.tools ?? {}).map(([path, host]) => ({ path, file: realpathSync(host), libs: sharedLibraries(host) }));
  const treeFiles = (opts.trees ?? []).flatMap((t) => (statSync(t).isDirectory() ? walkFiles(t).map((f) => join(t, f)) : [t])).sort();
  for (const f of [modtrace, busybox, kmod, ...[...libs.values()].map((l) => l.file)]) fileHash(h, f);
  for (const t of tools) {
    h.update(t.path + "\0");
    for (const f of [t.file, ...t.libs.map((l) => l.file)]) fileHash(h, f);
  }
  for (const f of treeFiles) fileHash(h, f);
  const key = h.digest("hex").slice(0, 16);
  const imagesDir = join(opts.cacheDir, "images");
  const image = join(imagesDir, `base-${key}.cpio${compress ? ".gz" : ""}`);
  if (existsSync(image)) {
    const now = new Date();
    utimesSync(image, now, now); // recently used: pruneImages keeps it
    return image;
  }

  mkdirSync(imagesDir, { recursive: true });
  pruneImages(imagesDir);
  const root = mkdtempSync(join(imagesDir, "staging-"));
  try {
    for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "lib/x86_64-linux-gnu", "lib64", "etc", "proc", "sys", "dev",
      "tmp", "root", "out", "vm", "mnt", "run", "var"]) mkdirSync(join(root, d), { recursive: true });
    // busybox and its applets, except the module tools, which are kmod's.
    copyFileSync(busybox, join(root, "bin/busybox"));
    chmodSync(join(root, "bin/busybox"), 0o755);
    for (const applet of run(busybox, ["--list-full"]).split("\n").filter(Boolean)) {
      if (KMOD_TOOLS.includes(basename(applet)) || applet === "bin/busybox") continue;
      const link = join(root, applet);
      if (!existsSync(link)) symlinkSync("/bin/busybox", link);
    }
    copyFileSync(kmod, join(root, "bin/kmod"));
    chmodSync(join(root, "bin/kmod"), 0o755);
    for (const t of KMOD_TOOLS) symlinkSync("/bin/kmod", join(root, "sbin", t));
    // glibc for modtrace, glibc + libzstd/liblzma/libcrypto for kmod; the dynamic
    // loader at the path the binaries name.
    for (const { listed, file } of libs.values()) {
      const dest = listed.startsWith("/lib64/") ? join(root, listed) : join(root, "lib/x86_64-linux-gnu", basename(listed));
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(file, dest);
      chmodSync(dest, 0o755);
    }
    copyFileSync(modtrace, join(root, "bin/modtrace"));
    chmodSync(join(root, "bin/modtrace"), 0o755);
    installTools(root, tools);
    for (const f of treeFiles) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      copyFileSync(f, join(root, f));
      chmodSync(join(root, f), statSync(f).mode & 0o777);
    }
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\n");
    // The modules, then depmod over the subset (modules.dep, modules.alias, ...).
    const mdir = join(root, "lib/modules", prep.kernelVersion);
    for (const rel of modules) {
      mkdirSync(dirname(join(mdir, rel)), { recursive: true });
      copyFileSync(join(prep.modulesDir, rel), join(mdir, rel));
    }
    for (const f of ["modules.builtin", "modules.builtin.modinfo", "modules.order"])
      copyFileSync(join(prep.modulesDir, f), join(mdir, f));
    run("depmod", ["-b", root, prep.kernelVersion]);
    writeFileSync(join(root, "init"), INIT);
    writeFileSync(join(root, "vm/prelude.sh"), PRELUDE);
    chmodSync(join(root, "init"), 0o755);
    assertNoForbiddenLibraries(root);
    const tmp = `${image}.${process.pid}.tmp`;
    cpio(root, tmp, compress);
    renameSync(tmp, image);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return image;
}

/** The base images kept in the cache, most recently used first. The VM files
 * run side by side (tests/run.ts) and each wants its own image, so the ones
 * another file has just built or used must stay; older ones go. */
const IMAGES_KEPT = 12;

function pruneImages(imagesDir: string) {
  const images = readdirSync(imagesDir)
    .filter((f) => /^base-[0-9a-f]+\.cpio(\.gz)?$/.test(f))
    .map((f) => ({ path: join(imagesDir, f), used: statSync(join(imagesDir, f)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const old of images.slice(IMAGES_KEPT - 1)) rmSync(old.path, { force: true });
}

/** Each tool as TOOLS_DIR/bin/NAME with its libraries in TOOLS_DIR, and at its
 * own path a wrapper that points the loader there for that tool alone. */
function installTools(root: string, tools: Array<{ path: string; file: string; libs: Array<{ listed: string; file: string }> }>) {
  if (!tools.length) return;
  mkdirSync(join(root, TOOLS_DIR, "bin"), { recursive: true });
  for (const t of tools) {
    const binary = join(TOOLS_DIR, "bin", basename(t.path));
    copyFileSync(t.file, join(root, binary));
    chmodSync(join(root, binary), 0o755);
    for (const l of t.libs) if (!l.listed.startsWith("/lib64/")) copyFileSync(l.file, join(root, TOOLS_DIR, basename(l.listed)));
    // busybox's applet of the same name would come first on PATH.
    for (const dir of ["bin", "sbin", "usr/bin", "usr/sbin"]) rmSync(join(root, dir, basename(t.path)), { force: true });
    mkdirSync(dirname(join(root, t.path)), { recursive: true });
    writeFileSync(join(root, t.path), `#!/bin/sh\nLD_LIBRARY_PATH=/${TOOLS_DIR} exec /${binary} "$@"\n`, { mode: 0o755 });
  }
}

/** Parses what the guest sent on ttyS1. */
function parseResults(text: string, consoleText: string) {
  const lines = text.replace(/\r/g, "").split("\n");
  const begin = lines.indexOf("@@VM-RESULTS-BEGIN");
  if (begin < 0) throw new VmError("the guest sent no results (did it boot, or crash?)", consoleText);
  if (!lines.includes("@@VM-RESULTS-END")) throw new VmError("the guest's results are cut short", consoleText);
  const exit = /^exit (\d+)$/.exec(lines[begin + 1] ?? "");
  if (!exit) throw new VmError(`no exit status in the results: ${lines[begin + 1]}`, consoleText);
  const files: Record<string, Uint8Array> = {};
  let i = begin + 2;
  while (lines[i] !== "@@VM-RESULTS-END") {
    const m = /^file (\d+) ([0-9a-f]{32}) (.*)$/.exec(lines[i] ?? "");
    if (!m) throw new VmError(`unexpected result line ${i}: ${JSON.stringify(lines[i])}`, consoleText);
    const end = lines.indexOf("@@end", i + 1);
    if (end < 0) throw new VmError(`file ${m[3]} is cut short`, consoleText);
    const data = new Uint8Array(Buffer.from(lines.slice(i + 1, end).join(""), "base64"));
    if (data.length !== Number(m[1]) || createHash("md5").update(data).digest("hex") !== m[2])
      throw new VmError(`file ${m[3]} arrived damaged (${data.length} bytes, expected ${m[1]})`, consoleText);
    files[m[3]] = data;
    i = end + 1;
  }
  return { exitCode: Number(exit[1]), files };
}

export async function runInVm(opts: VmOptions): Promise<VmResult> {
  const cacheDir = opts.cacheDir ?? DEFAULT_CACHE;
  const prep = prepare(cacheDir);
  const base = baseImage(prep, {
    modules: [...DEFAULT_MODULES, ...(opts.modules ?? [])],
    modtrace: opts.modtrace ?? join(REPO, "dist/modtrace"),
    cacheDir,
    tools: opts.tools,
    trees: opts.trees,
  });

  const work = mkdtempSync(join(cacheDir, "run-"));
  try {
    // The script and its files as a second cpio, appended to the cached base.
    const overlay = join(work, "overlay");
    mkdirSync(join(overlay, "vm"), { recursive: true });
    writeFileSync(join(overlay, "vm/script.sh"), opts.script);
    for (const [guest, host] of Object.entries(opts.files ?? {})) {
      if (!guest.startsWith("/")) throw new Error(`guest path ${guest} is not absolute`);
      const dest = join(overlay, guest);
      if (relative(overlay, dest).startsWith("..")) throw new Error(`guest path ${guest} leaves the image`);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(host, dest);
      chmodSync(dest, statSync(host).mode & 0o777);
    }
    cpio(overlay, join(work, "overlay.cpio.gz"), true);
    const initrd = join(work, "initrd");
    writeFileSync(initrd, Buffer.concat([readFileSync(base), readFileSync(join(work, "overlay.cpio.gz"))]));

    const resultsFile = join(work, "results.txt");
    const args = [
      "-accel", opts.accel ?? DEFAULT_ACCEL, "-cpu", opts.cpu ?? "max", "-smp", "2", "-m", String(opts.memoryMiB ?? 1536),
      "-nodefaults", "-nographic", "-no-reboot", "-monitor", "none",
      "-serial", "stdio", "-serial", `file:${resultsFile}`,
      "-kernel", prep.vmlinuz, "-initrd", initrd,
      "-append", "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init",
    ];
    const started = Date.now();
    const qemu = Bun.spawn(["qemu-system-x86_64", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill("SIGKILL");
    }, (opts.timeoutSec ?? 300) * 1000);
    const [out, err] = await Promise.all([new Response(qemu.stdout).text(), new Response(qemu.stderr).text(), qemu.exited]);
    clearTimeout(timer);
    const seconds = (Date.now() - started) / 1000;
    // Without \r and the firmware's terminal escapes.
    const consoleText = out.replace(/\r/g, "").replace(/\x1b(\[[0-9;?]*[A-Za-z]|c)/g, "") + (err ? `\n[qemu stderr]\n${err}` : "");
    if (timedOut) throw new VmError(`the VM did not finish within ${opts.timeoutSec ?? 300} s: QEMU killed`, consoleText);
    if (qemu.exitCode !== 0) throw new VmError(`QEMU exited ${qemu.exitCode}`, consoleText);
    const results = parseResults(existsSync(resultsFile) ? readFileSync(resultsFile, "latin1") : "", consoleText);
    const { ".dmesg": dmesg, ...outputs } = results.files;
    return {
      exitCode: results.exitCode,
      console: consoleText,
      outputs,
      dmesg: dmesg ? new TextDecoder().decode(dmesg) : "",
      seconds,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const [scriptPath, ...fileArgs] = process.argv.slice(2);
  if (!scriptPath) {
    console.error("usage: bun tests/vm/run.ts SCRIPT.sh [GUEST_PATH=HOST_PATH ...]");
    process.exit(2);
  }
  const files = Object.fromEntries(fileArgs.map((a) => {
    const eq = a.indexOf("=");
    if (eq < 0) throw new Error(`expected GUEST_PATH=HOST_PATH, got ${a}`);
    return [a.slice(0, eq), resolve(a.slice(eq + 1))];
  }));
  try {
    const r = await runInVm({ script: readFileSync(scriptPath, "utf8"), files });
    process.stdout.write(r.console);
    const outDir = resolve("vm-out");
    mkdirSync(outDir, { recursive: true });
    for (const [name, data] of Object.entries(r.outputs)) {
      mkdirSync(dirname(join(outDir, name)), { recursive: true });
      writeFileSync(join(outDir, name), data);
    }
    writeFileSync(join(outDir, "dmesg.txt"), r.dmesg, { flag: "w" });
    console.error(`vm: script exited ${r.exitCode} after ${r.seconds.toFixed(1)} s; ${Object.keys(r.outputs).length} file(s) in ${outDir}`);
    process.exit(r.exitCode);
  } catch (e) {
    console.error(String((e as Error).message ?? e));
    process.exit(125);
  }
}
