#!/usr/bin/env bash
# Builds the vm tier's test modules (mt_*.c here) for the kernel prepare.sh
# fetched, with Debian's headers for exactly that kernel:
#   tests/vm/modules/build.sh [CACHE_DIR]     (default: .cache/vm under the repository)
# Needs tests/vm/prepare.sh to have run (it reads CACHE_DIR/prepared.stamp).
# Installs linux-headers-<kver> (at the kernel package's own version) and gcc-12
# when missing; writes CACHE_DIR/modules/<kver>/*.ko, never into the repository.
# A second run with the same sources and kernel only checks, and is quick.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
. "$REPO/tools/apt.sh"
CACHE="${1:-$REPO/.cache/vm}"
STAMP="$CACHE/prepared.stamp"
MODULES=(mt_plain mt_hide_list mt_hide_kobj mt_hook_table mt_hook_dispatch mt_hook_ia32 mt_ftrace_hook mt_hide_staging mt_slow_init mt_init_fails mt_hook_hidden mt_kprobe_hook mt_hide_both)

say() { printf 'modules/build.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ -f "$STAMP" ] || die "no $STAMP: run tests/vm/prepare.sh first"
kver="$(sed -n 's/^kernel-version //p' "$STAMP")"
deb="$(sed -n 's/^kernel-deb //p' "$STAMP")"
[ -n "$kver" ] || die "$STAMP names no kernel version"
# linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb -> 6.1.192-2: the headers
# must come from the same upload, or symbol CRCs may not match the kernel.
pkgver="$(printf '%s' "$deb" | sed -n 's/^[^_]*_\([^_]*\)_.*$/\1/p')"
OUT="$CACHE/modules/$kver"

# The key: the sources, this script and the kernel. Unchanged: nothing to do.
key="$(cat "$HERE"/*.c "$HERE"/*.h "$HERE/Kbuild" "$0" | sha256sum | cut -c1-16)-$kver"
if [ -f "$OUT/built.stamp" ] && [ "$(cat "$OUT/built.stamp")" = "$key" ]; then
  say "ready (cached): ${MODULES[*]} in $OUT"
  exit 0
fi

KDIR="/usr/src/linux-headers-$kver"
need=()
[ -f "$KDIR/Makefile" ] || need+=("linux-headers-$kver${pkgver:+=$pkgver}")
command -v gcc-12 >/dev/null || need+=(gcc-12)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "needs root to install ${need[*]}"
  say "installing Debian packages: ${need[*]}"
  apt_update -qq
  apt_install "${need[@]}"
fi
[ -f "$KDIR/Makefile" ] || die "linux-headers-$kver installed no $KDIR/Makefile"

# Kbuild writes its objects next to the sources: build in a scratch copy.
work="$(mktemp -d "$CACHE/modules-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp "$HERE"/*.c "$HERE"/*.h "$HERE/Kbuild" "$work/"
say "building ${MODULES[*]} for $kver"
# The kernel was built with gcc-12; its headers' Makefile names it (CC=gcc-12).
make -s -C "$KDIR" M="$work" CC=gcc-12 modules >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; die "make failed"; }
mkdir -p "$OUT"
for m in "${MODULES[@]}"; do
  [ -f "$work/$m.ko" ] || die "make wrote no $m.ko"
  cp "$work/$m.ko" "$OUT/$m.ko"
done
printf '%s\n' "$key" >"$OUT/built.stamp"
say "built ${MODULES[*]} in $OUT"
