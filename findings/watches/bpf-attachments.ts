// Where BPF programs are attached (loader/bpf-links.c): a program acts only
// where it is attached, and the place says what it can see and change: a
// bpf_override_return program on a syscall handler makes that call fail; a
// bpf_probe_write_user one on getdents64 edits directory listings.
// - Links name their program and target: a raw tracepoint by name, a tracing
//   program (fentry, fexit, fmod_ret, lsm, tp_btf) by the BTF name of its
//   function.
// - Perf events (kprobes, uprobes, tracepoints) are asked of the process that
//   holds them, the way bpftool's "perf" list does; that walk is the holders'
//   (bpf-holders.ts).
//
// What it cannot see: the target of a kprobe_multi link (6.1's link info
// has none), of a cgroup, netns or XDP link beyond its kind, and of a perf
// event no process holds any more (its program still runs).
import { ptr } from "bun:ffi";
import { native } from "../../loader/native";

// A type, not an interface: a finding's details take it as a plain record.
export type Attachment = {
  /** fentry, fexit, fmod_ret, lsm, tp_btf, raw_tracepoint, kprobe, kretprobe, uprobe, tracepoint, cgroup, xdp, ... */
  kind: string;
  /** The function, tracepoint or file (with its offset), where the kernel says. */
  target?: string;
  /** The link's id (none for a perf event). */
  link?: number;
};

// include/uapi/linux/bpf.h, enum bpf_link_type.
const LINK_TYPES = ["unspec", "raw_tracepoint", "tracing", "cgroup", "iter", "netns", "xdp", "perf_event", "kprobe_multi", "struct_ops", "netfilter", "tcx", "uprobe_multi", "netkit", "sockmap"];
// enum bpf_attach_type, the tracing ones.
const TRACING: Record<number, string> = { 23: "tp_btf", 24: "fentry", 25: "fexit", 26: "fmod_ret", 27: "lsm", 28: "iter", 43: "lsm_cgroup" };
// enum bpf_task_fd_type.
const PERF_TYPES = ["raw_tracepoint", "tracepoint", "kprobe", "kretprobe", "uprobe", "uretprobe"];

const LINK_RECORD = 152;
const PERF_RECORD = 280;

const cString = (bytes: Uint8Array) => {
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString("utf8");
};

/** Program id -> where its links attach it. */
export function linkAttachments(): Map<number, Attachment[]> {
  const lib = native();
  const rec = new Uint8Array(LINK_RECORD);
  const view = new DataView(rec.buffer);
  const byProgram = new Map<number, Attachment[]>();
  for (let after = 0; ; ) {
    const r = lib.mt_bpf_link_after(after, ptr(rec));
    if (r < 0) throw new Error(`listing BPF links failed: errno ${-r}`);
    if (r === 0) return byProgram;
    const id = view.getUint32(0, true);
    const type = view.getUint32(4, true);
    const program = view.getUint32(8, true);
    const target = cString(rec.subarray(24, 152));
    const kind = type === 2 ? (TRACING[view.getUint32(12, true)] ?? `tracing (attach type ${view.getUint32(12, true)})`) : (LINK_TYPES[type] ?? `link type ${type}`);
    const attachment: Attachment = { kind, link: id, ...(target && { target }) };
    byProgram.set(program, [...(byProgram.get(program) ?? []), attachment]);
    after = id;
  }
}

/** The program on descriptor fd of process pid, when it is a perf event with one. */
export function perfAttachment(pid: number, fd: number): { program: number; attachment: Attachment } | undefined {
  const rec = new Uint8Array(PERF_RECORD);
  const view = new DataView(rec.buffer);
  if (native().mt_bpf_task_fd(pid, fd, ptr(rec)) !== 1) return undefined;
  const type = view.getUint32(4, true);
  const offset = view.getBigUint64(8, true);
  const addr = view.getBigUint64(16, true);
  const name = cString(rec.subarray(24));
  const kind = PERF_TYPES[type] ?? `perf event type ${type}`;
  // A probe set by address has no name; a uprobe's name is its file.
  const target = name ? (type >= 2 ? `${name}+0x${offset.toString(16)}` : name) : addr ? `0x${addr.toString(16)}` : undefined;
  return { program: view.getUint32(0, true), attachment: { kind, ...(target && { target }) } };
}

/** "fentry:__x64_sys_kill, kprobe:filldir64+0x0" */
export const describeAttachments = (a: Attachment[]) => a.map((x) => (x.target ? `${x.kind}:${x.target}` : x.kind)).join(", ");
