#!/usr/bin/env bash
# Prepares what the vm test tier needs, once:
#   tests/vm/prepare.sh [CACHE_DIR]        (default: .cache/vm under the repository)
# - host tools from Debian, installed only when missing: qemu-system-x86 (the VM),
#   busybox-static and kmod (copied into the guest image; kmod's depmod also runs on
#   the host), cpio and gzip (the image), xz-utils (a compressed module for init_module);
# - Debian's kernel, the package that linux-image-amd64 depends on, fetched with
#   `apt-get download` and unpacked with `dpkg-deb -x` into CACHE_DIR/kernel (never
#   installed, never near /boot), then `depmod -b` over its modules tree.
# CACHE_DIR/vm.json then says where everything is (tests/vm/run.ts reads it), and
# CACHE_DIR/prepared.stamp marks the work done: a second run only checks and is quick.
# The kernel stays pinned once fetched; delete CACHE_DIR (or set VM_REFRESH=1) to
# fetch the kernel linux-image-amd64 currently points at.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
. "$REPO/tools/apt.sh"
CACHE="${1:-$REPO/.cache/vm}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
STAMP="$CACHE/prepared.stamp"
STAMP_FORMAT="modtrace-vm-prepare 1"

say() { printf 'prepare.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (it installs Debian packages)"

# --- host tools --------------------------------------------------------------
# package:command that proves it is there
TOOLS=(qemu-system-x86:qemu-system-x86_64 busybox-static:/bin/busybox kmod:kmod
       cpio:cpio gzip:gzip xz-utils:xz)
missing=()
for t in "${TOOLS[@]}"; do
  pkg="${t%%:*}" cmd="${t#*:}"
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || ! command -v "$cmd" >/dev/null; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt_update -qq
  apt_install "${missing[@]}"
fi

# busybox-static is one static executable; the dynamic busybox package would need
# its libraries in the guest too.
if ldd /bin/busybox >/dev/null 2>&1; then die "/bin/busybox is dynamically linked: install busybox-static"; fi
# The modules of the Debian 6.1 kernel are plain .ko, but a compressed copy is
# loaded in the guest (kmod then uses init_module): kmod must read xz.
kmod --version | grep -q '+XZ' || die "this kmod cannot read xz-compressed modules: $(kmod --version | tr '\n' ' ')"

if [ -f "$STAMP" ] && [ -z "${VM_REFRESH:-}" ] && head -1 "$STAMP" | grep -qx "$STAMP_FORMAT" && [ -f "$CACHE/vm.json" ]; then
  # Cached: check that what the stamp promises is still on disk.
  ver="$(sed -n 's/^kernel-version //p' "$STAMP")"
  if [ -f "$CACHE/kernel/boot/vmlinuz-$ver" ] && [ -f "$CACHE/kernel/lib/modules/$ver/modules.dep" ]; then
    say "ready (cached): kernel $ver in $CACHE"
    exit 0
  fi
  say "the cache is incomplete: preparing again"
fi

# --- Debian's kernel ---------------------------------------------------------
pkg_of_meta() {
  apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1
}
kpkg="$(pkg_of_meta)"
if [ -z "$kpkg" ]; then
  apt_update -qq
  kpkg="$(pkg_of_meta)"
fi
[ -n "$kpkg" ] || die "cannot tell which kernel package linux-image-amd64 depends on"
ver="${kpkg#linux-image-}"
say "kernel package: $kpkg"

mkdir -p "$CACHE/debs"
deb="$(ls "$CACHE/debs/${kpkg}"_*.deb 2>/dev/null | head -1 || true)"
if [ -z "$deb" ]; then
  # apt-get download writes into the current directory; the _apt user cannot
  # write there, hence the (harmless) "unsandboxed" warning, which is dropped.
  (cd "$CACHE/debs" && apt-get download -qq "$kpkg" 2>&1 | grep -v 'Download is performed unsandboxed' >&2 || true)
  deb="$(ls "$CACHE/debs/${kpkg}"_*.deb 2>/dev/null | head -1 || true)"
  [ -n "$deb" ] || die "apt-get download $kpkg did not produce a .deb"
fi
say "unpacking $(basename "$deb")"
rm -rf "$CACHE/kernel.new"
dpkg-deb -x "$deb" "$CACHE/kernel.new"
[ -f "$CACHE/kernel.new/boot/vmlinuz-$ver" ] || die "$deb has no boot/vmlinuz-$ver"
[ -d "$CACHE/kernel.new/lib/modules/$ver/kernel" ] || die "$deb has no lib/modules/$ver/kernel"
# The package leaves modules.dep to its postinst; make it (and modules.alias,
# which the kernel's request_module relies on through modprobe) here.
depmod -b "$CACHE/kernel.new" "$ver"
[ -s "$CACHE/kernel.new/lib/modules/$ver/modules.dep" ] || die "depmod wrote no modules.dep"
rm -rf "$CACHE/kernel"
mv "$CACHE/kernel.new" "$CACHE/kernel"

cat >"$CACHE/vm.json" <<EOF
{
  "kernelPackage": "$kpkg",
  "kernelDeb": "$(basename "$deb")",
  "kernelVersion": "$ver",
  "vmlinuz": "$CACHE/kernel/boot/vmlinuz-$ver",
  "modulesDir": "$CACHE/kernel/lib/modules/$ver",
  "kernelConfig": "$CACHE/kernel/boot/config-$ver"
}
EOF
printf '%s\nkernel-version %s\nkernel-deb %s\n' "$STAMP_FORMAT" "$ver" "$(basename "$deb")" >"$STAMP"
say "ready: kernel $ver in $CACHE"
