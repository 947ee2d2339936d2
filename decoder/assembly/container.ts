// The container a cgroup v2 path names, for the layouts the common runtimes
// make (nothing is asked of any runtime: the path is all there is):
//   docker       …/docker-<64 hex>.scope (systemd driver), /docker/<64 hex> (cgroupfs)
//   containerd   …/cri-containerd-<64 hex>.scope (Kubernetes, systemd driver)
//   crio         …/crio-<64 hex>.scope, …/crio-<64 hex> (crio-conmon-… is its monitor, on the host)
//   podman       …/libpod-<64 hex>.scope, …/libpod-<64 hex> (libpod-conmon-… likewise)
//   systemd-nspawn  …/machine-<name>.scope, …/systemd-nspawn@<name>.service
//                (machine-qemu… is a libvirt virtual machine's qemu: not a container)
//   cri          …/kubepods…/pod<uid>/<64 hex>: a Kubernetes container whose path
//                does not name its runtime (kubelet's cgroupfs driver)
// and the Kubernetes pod uid of …/kubepods-<qos>-pod<uid>.slice or
// …/kubepods/<qos>/pod<uid>. Nested layouts (a runtime inside a container)
// name the innermost container.

export const RUNTIME_NONE: u32 = 0;
export const RUNTIME_DOCKER: u32 = 1;
export const RUNTIME_CONTAINERD: u32 = 2;
export const RUNTIME_CRIO: u32 = 3;
export const RUNTIME_PODMAN: u32 = 4;
export const RUNTIME_NSPAWN: u32 = 5;
export const RUNTIME_CRI: u32 = 6;

export function runtimeName(r: u32): string {
  if (r == RUNTIME_DOCKER) return "docker";
  if (r == RUNTIME_CONTAINERD) return "containerd";
  if (r == RUNTIME_CRIO) return "crio";
  if (r == RUNTIME_PODMAN) return "podman";
  if (r == RUNTIME_NSPAWN) return "systemd-nspawn";
  if (r == RUNTIME_CRI) return "cri";
  return "";
}

// What parse() found. The id and pod uid are copied out (a machine name
// unescaped, a pod uid with systemd's '_' back to '-').
export let runtime: u32 = RUNTIME_NONE;
export const id: usize = heap.alloc(256);
export let idLen: i32 = 0;
export const podUid: usize = heap.alloc(64);
export let podUidLen: i32 = 0;

const HEX_ID = 64;

function isHex(c: u32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
}

function allHex(p: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (!isHex(load<u8>(p + i))) return false;
  return true;
}

/** Does the segment [p, p + n) start with s (ASCII)? */
function startsWith(p: usize, n: i32, s: string): bool {
  if (n < s.length) return false;
  for (let i = 0; i < s.length; i++) if (load<u8>(p + i) != <u32>s.charCodeAt(i)) return false;
  return true;
}

function endsWith(p: usize, n: i32, s: string): bool {
  return n >= s.length && startsWith(p + n - s.length, s.length, s);
}

function equals(p: usize, n: i32, s: string): bool {
  return n == s.length && startsWith(p, n, s);
}

/** prefix<64 hex>suffix, with the suffix optional: the id's start, or 0. */
function prefixedId(p: usize, n: i32, prefix: string): usize {
  if (!startsWith(p, n, prefix)) return 0;
  const rest = n - prefix.length;
  if (rest != HEX_ID && !(rest == HEX_ID + 6 && endsWith(p, n, ".scope"))) return 0;
  const at = p + prefix.length;
  return allHex(at, HEX_ID) ? at : 0;
}

function setId(r: u32, p: usize, n: i32): void {
  runtime = r;
  memory.copy(id, p, n);
  idLen = n;
}

function hexValue(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** A systemd unit name's part, its \xNN escapes undone, as an nspawn machine. */
function setMachine(p: usize, n: i32): void {
  let len = 0;
  for (let i = 0; i < n && len < 255; i++) {
    const c = load<u8>(p + i);
    if (c == 0x5c && i + 3 < n && load<u8>(p + i + 1) == 0x78) {
      const hi = hexValue(load<u8>(p + i + 2));
      const lo = hexValue(load<u8>(p + i + 3));
      if (hi >= 0 && lo >= 0) {
        store<u8>(id + len++, (hi << 4) | lo);
        i += 3;
        continue;
      }
    }
    store<u8>(id + len++, c);
  }
  runtime = RUNTIME_NSPAWN;
  idLen = len;
}

/** A pod uid: a UUID (36, with '-' or systemd's '_') or a static pod's 32 hex. */
function setPod(p: usize, n: i32): bool {
  if (n != 36 && n != 32) return false;
  for (let i = 0; i < n; i++) {
    let c = load<u8>(p + i);
    const dash = n == 36 && (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash) {
      if (c != 0x2d && c != 0x5f) return false;
      c = 0x2d;
    } else if (!isHex(c)) return false;
    store<u8>(podUid + i, c);
  }
  podUidLen = n;
  return true;
}

/** One path segment, the one before it given too (cgroupfs layouts). */
function segment(p: usize, n: i32, prev: usize, prevLen: i32, inKubepods: bool): void {
  let at: usize;
  if ((at = prefixedId(p, n, "docker-"))) setId(RUNTIME_DOCKER, at, HEX_ID);
  else if ((at = prefixedId(p, n, "cri-containerd-"))) setId(RUNTIME_CONTAINERD, at, HEX_ID);
  else if ((at = prefixedId(p, n, "crio-"))) setId(RUNTIME_CRIO, at, HEX_ID);
  else if ((at = prefixedId(p, n, "libpod-"))) setId(RUNTIME_PODMAN, at, HEX_ID);
  else if (n == HEX_ID && allHex(p, n)) {
    if (equals(prev, prevLen, "docker")) setId(RUNTIME_DOCKER, p, n);
    else if (inKubepods && startsWith(prev, prevLen, "pod")) setId(RUNTIME_CRI, p, n);
  } else if (startsWith(p, n, "machine-") && endsWith(p, n, ".scope")) {
    const name = p + 8;
    const len = n - 8 - 6;
    // libvirt's virtual machines are machine-qemu\x2d<n>\x2d<name>.scope.
    if (len > 0 && !startsWith(name, len, "qemu\\x2d")) setMachine(name, len);
  } else if (startsWith(p, n, "systemd-nspawn@") && endsWith(p, n, ".service") && n > 15 + 8) {
    setMachine(p + 15, n - 15 - 8);
  } else if (startsWith(p, n, "kubepods-") && endsWith(p, n, ".slice")) {
    // kubepods-pod<uid>.slice (guaranteed) or kubepods-<qos>-pod<uid>.slice
    for (let i = 8; i + 4 < n; i++) {
      if (load<u8>(p + i) == 0x2d && startsWith(p + i + 1, n - i - 1, "pod")) {
        setPod(p + i + 4, n - i - 4 - 6);
        break;
      }
    }
  } else if (inKubepods && startsWith(p, n, "pod")) setPod(p + 3, n - 3);
}

/** Reads the path [p, p + n); the results are in the exports above. */
export function parse(p: usize, n: i32): void {
  runtime = RUNTIME_NONE;
  idLen = 0;
  podUidLen = 0;
  let prev: usize = p;
  let prevLen = 0;
  let inKubepods = false;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && load<u8>(p + i) != 0x2f) continue;
    const len = i - start;
    if (len > 0) {
      const seg = p + start;
      segment(seg, len, prev, prevLen, inKubepods);
      if (equals(seg, len, "kubepods") || equals(seg, len, "kubepods.slice")) inKubepods = true;
      prev = seg;
      prevLen = len;
    }
    start = i + 1;
  }
}
