// The C shim (libmodtrace.so, libbpf linked in) as bun:ffi functions.
//
// The shared object is embedded in the compiled executable. dlopen needs a
// real file, and a single-binary tool must not litter the host or depend on
// a writable /tmp, so it is copied into an anonymous memfd and opened through
// /proc/self/fd.
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { writeSync, closeSync } from "node:fs";
import shimPath from "../build/libmodtrace.so" with { type: "file" };

const symbols = {
  mt_open: { args: [FFIType.ptr, FFIType.u64, FFIType.u32, FFIType.u32, FFIType.ptr, FFIType.u32], returns: FFIType.ptr },
  mt_set_autoload: { args: [FFIType.ptr, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  mt_test_reject: { args: [FFIType.ptr, FFIType.cstring], returns: FFIType.i32 },
  mt_load_failure: { args: [FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.u32], returns: FFIType.void },
  mt_load: { args: [FFIType.ptr, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  mt_set_config: { args: [FFIType.ptr, FFIType.u32, FFIType.u32, FFIType.u32], returns: FFIType.i32 },
  mt_set_attached: { args: [FFIType.ptr, FFIType.u32, FFIType.u32], returns: FFIType.i32 },
  mt_filter_add: { args: [FFIType.ptr, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
  mt_attach: { args: [FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  mt_drain: { args: [FFIType.ptr, FFIType.ptr, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  mt_drain_images: { args: [FFIType.ptr, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  mt_counter: { args: [FFIType.ptr, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
  mt_ring_moved: { args: [FFIType.ptr, FFIType.u32, FFIType.ptr], returns: FFIType.u64_fast },
  mt_heartbeat: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.u32 },
  mt_prog_misses: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  mt_clock_offset_ns: { args: [], returns: FFIType.i64 },
  mt_boot_ns: { args: [], returns: FFIType.i64 },
  mt_built_with: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.void },
  mt_detach: { args: [FFIType.ptr], returns: FFIType.void },
  mt_close: { args: [FFIType.ptr], returns: FFIType.void },
  mt_probe_map_ringbuf: { args: [], returns: FFIType.i32 },
  mt_probe_helper_loop: { args: [], returns: FFIType.i32 },
  mt_probe_int80: { args: [], returns: FFIType.i32 },
  mt_bpf_program_after: { args: [FFIType.u32, FFIType.ptr, FFIType.u32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  mt_probe_kernel_function: { args: [FFIType.cstring], returns: FFIType.i32 },
  mt_probe_hook: { args: [FFIType.i32, FFIType.cstring, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  mt_probe_done: { args: [], returns: FFIType.void },
  mt_probe_stub_ids: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.u32 },
  mt_kernel_member_offset: { args: [FFIType.cstring, FFIType.cstring], returns: FFIType.i32 },
  mt_bpf_link_after: { args: [FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
  mt_bpf_task_fd: { args: [FFIType.u32, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
} as const;

const MFD_CLOEXEC = 1;

function openShim() {
  const libc = dlopen("libc.so.6", {
    memfd_create: { args: [FFIType.cstring, FFIType.u32], returns: FFIType.i32 },
  });
  const fd = libc.symbols.memfd_create(Buffer.from("modtrace-shim\0"), MFD_CLOEXEC);
  if (fd < 0) throw new Error("memfd_create failed: cannot stage the libbpf shim in memory");
  const bytes = require("node:fs").readFileSync(shimPath) as Buffer;
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
  const lib = dlopen(`/proc/self/fd/${fd}`, symbols);
  closeSync(fd);
  libc.close();
  return lib.symbols;
}

let cached: ReturnType<typeof openShim> | undefined;

export function native() {
  cached ??= openShim();
  return cached;
}

export type SessionHandle = Pointer;

export function cString(s: string): Buffer {
  return Buffer.from(s + "\0");
}

/** The text the shim wrote into buf: up to its NUL (the whole buffer when it filled it), trimmed. */
export function cText(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString("utf8").trim();
}

/** The Debian versions of libbpf, libelf and zlib linked into the shim, and what they report. */
export function builtWith(): string {
  const buf = Buffer.alloc(512);
  native().mt_built_with(buf, buf.length);
  return cText(buf);
}
