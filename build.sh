#!/usr/bin/env bash
# modtrace's one entry point on a fresh Debian 12 machine (as root):
#   ./build.sh          install what is missing, build dist/modtrace
#   ./build.sh test     build, then run every test tier (unit, host, analysis, vm)
#   ./build.sh bench    build, then run the benchmarks (docs/PERFORMANCE.md)
# A second run with nothing changed only checks, and is quick.
set -euo pipefail
cd "$(dirname "$0")"
. tools/apt.sh

DEBIAN_PACKAGES=(clang llvm bpftool gcc make linux-libc-dev pkg-config m4 gawk dpkg-dev xz-utils util-linux python3-cbor2 nodejs npm)

say() { printf 'build.sh: %s\n' "$*" >&2; }

install_debian_packages() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  # A machine with Node from another source has node and npm without the Debian packages.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
  fi
  read -ra missing <<<"${missing[*]}"
  [ ${#missing[@]} -eq 0 ] && return
  say "installing Debian packages: ${missing[*]}"
  apt_update -qq
  apt_install "${missing[@]}"
}

# npm install, not npm ci: the lock lists optional per-platform packages
# (cbor-extract's) that the registry may not serve, which npm ci refuses.
install_npm_packages() {
  if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages"
    npm install --no-audit --no-fund --loglevel=error
  fi
}

build() {
  install_debian_packages
  install_npm_packages
  loader/build-deps.sh
  make --no-print-directory -j"$(nproc)" all tests/trigger tests/mt_write_user.bpf.o tests/mt_send_signal.bpf.o
}

case "${1:-build}" in
  build) build; say "built dist/modtrace" ;;
  test)
    build
    # The analysis tier's distributed engine: two clickhouse-server processes it starts itself.
    if [ $# -eq 1 ] || [[ " ${*:2} " == *" analysis "* ]]; then
      if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_PACKAGES=(clickhouse-server clickhouse-client)
        install_debian_packages
      else
        say "not root: cannot install clickhouse-server (the analysis tier's ClickHouse tests will say so)"
      fi
    fi
    # rpm (and rpmbuild): the unit tier checks the scan's rpm records with a package of its own.
    if [ $# -eq 1 ] || [[ " ${*:2} " == *" unit "* ]]; then
      if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_PACKAGES=(rpm)
        install_debian_packages
      else
        say "not root: cannot install rpm (the unit tier's rpm test will say so)"
      fi
    fi
    exec node_modules/.bin/bun tests/run.ts "${@:2}" ;;
  bench)
    build
    # bpftrace is the peer the capture figures are measured against; ClickHouse
    # is the distributed engine of the analysis figures.
    DEBIAN_PACKAGES=(bpftrace clickhouse-server clickhouse-client)
    install_debian_packages
    exec node_modules/.bin/bun bench/run.ts ;;
  *) say "usage: ./build.sh [build|test [tier...]|bench]"; exit 2 ;;
esac
