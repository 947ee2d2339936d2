#!/usr/bin/env bash
# Builds position-independent static archives of zlib, libelf (elfutils) and
# libbpf from Debian bookworm's source packages, so libmodtrace.so can link
# them in and need nothing on the host but libc. (Debian's own libbpf.a and
# libelf.a are not built with -fPIC, so they cannot go into a shared object.)
#
#   loader/build-deps.sh [CACHE]      CACHE defaults to <repo>/.cache/deps
#
# Result: CACHE/prefix/lib/{libbpf.a,libelf_pic.a,libz.a} and
#         CACHE/prefix/include/{bpf/*.h,libelf.h,gelf.h,nlist.h,zlib.h,zconf.h}
# Logs go to CACHE/logs/; a stamp in the prefix makes a second run a no-op
# (the stamp holds this script's checksum, so editing the script rebuilds).
#
# The sources come through apt with a private configuration under CACHE: the
# deb-src entries are derived at run time from the machine's own Debian
# entries, and the machine's apt configuration and lists are left untouched.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${1:-$ROOT/.cache/deps}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
PREFIX=$CACHE/prefix
LOGS=$CACHE/logs
APTDIR=$CACHE/apt           # private apt configuration, lists and cache
SRC=$CACHE/src              # downloaded source packages and build trees
STAMP=$PREFIX/.build-deps.stamp

# Only Debian's own bookworm suites (backports would pick newer versions than
# the recipes below were written for; third-party repositories are skipped).
SUITES_RE='^bookworm(-updates|-security)?$'
SOURCE_PACKAGES=(zlib elfutils libbpf)
BUILD_TOOLS=(gcc libc6-dev make m4 gawk pkg-config dpkg-dev xz-utils bzip2 patch)
OUTPUTS=(lib/libbpf.a lib/libelf_pic.a lib/libz.a include/bpf/libbpf.h include/libelf.h include/gelf.h include/zlib.h
         include/modtrace-deps.h)
CFLAGS_PIC='-O2 -fPIC'

. "$ROOT/tools/apt.sh"

say() { printf 'build-deps.sh: %s\n' "$*" >&2; }

SELF=$ROOT/loader/$(basename "${BASH_SOURCE[0]}")
stamp_value() { sha256sum <"$SELF" | cut -d' ' -f1; }

up_to_date() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_value)" ] || return 1
  local f
  for f in "${OUTPUTS[@]}"; do [ -f "$PREFIX/$f" ] || return 1; done
}

if up_to_date; then exit 0; fi

# Each step's output goes to its own log; when a step fails, say which and where.
CURRENT_STEP='' CURRENT_LOG=''
on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "$CURRENT_STEP" ]; then
    say "step '$CURRENT_STEP' failed (exit $rc); last lines of $CURRENT_LOG:"
    tail -n 25 "$CURRENT_LOG" | sed 's/^/  | /' >&2 || true
    say "full log: $CURRENT_LOG"
  fi
}
trap on_exit EXIT

step() { # step NAME FUNCTION: run FUNCTION in a subshell (under set -e), output to NAME's log
  CURRENT_STEP=$1 CURRENT_LOG=$LOGS/$1.log
  ("$2") >"$CURRENT_LOG" 2>&1
  CURRENT_STEP='' CURRENT_LOG=''
}

JOBS=$(nproc 2>/dev/null || echo 2)

# --- build tools -------------------------------------------------------------

install_build_tools() {
  local missing=() p
  for p in "${BUILD_TOOLS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  apt_update
  apt_install "${missing[@]}"
}

# --- private deb-src configuration ---------------------------------------------

# deb822 .sources: one deb-src stanza per enabled "deb" stanza that has a
# bookworm suite, keeping its URIs, Components and options (Signed-By, ...).
deb822_to_src() {
  awk -v re="$SUITES_RE" '
    function flush(   i, n, s, keep, types, isdeb) {
      if (nf == 0) return
      types = val["types"]; isdeb = 0
      n = split(types, s, /[ \t]+/)
      for (i = 1; i <= n; i++) if (s[i] == "deb") isdeb = 1
      if (isdeb && tolower(val["enabled"]) != "no" && val["uris"] != "") {
        keep = ""
        n = split(val["suites"], s, /[ \t]+/)
        for (i = 1; i <= n; i++) if (s[i] ~ re) keep = keep (keep == "" ? "" : " ") s[i]
        if (keep != "") {
          print "Types: deb-src"
          print "URIs: " val["uris"]
          print "Suites: " keep
          print "Components: " val["components"]
          for (i = 1; i <= nf; i++) {
            k = tolower(name[i])
            if (k != "types" && k != "uris" && k != "suites" && k != "components" &&
                k != "architectures" && k != "enabled") printf "%s", raw[i]
          }
          print ""
        }
      }
      delete val; delete name; delete raw; nf = 0
    }
    /^#/ { next }
    /^[ \t]*$/ { flush(); next }
    /^[ \t]/ { if (nf) raw[nf] = raw[nf] $0 "\n"; next }   # continuation line
    {
      i = index($0, ":"); if (i == 0) next
      k = substr($0, 1, i - 1); v = substr($0, i + 1)
      sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
      nf++; name[nf] = k; raw[nf] = $0 "\n"; val[tolower(k)] = v
    }
    END { flush() }
  ' "$@"
}

# One-line .list: "deb [options] URI SUITE COMPONENT..." -> "deb-src ...".
list_to_src() {
  awk -v re="$SUITES_RE" '
    { sub(/#.*/, "") }
    $1 != "deb" { next }
    {
      i = 2; opts = ""
      if ($2 ~ /^\[/) {
        for (; i <= NF; i++) { opts = opts (opts == "" ? "" : " ") $i; if ($i ~ /\]$/) break }
        i++
      }
      uri = $i; suite = $(i + 1); comps = ""
      for (j = i + 2; j <= NF; j++) comps = comps " " $j
      if (suite ~ re && comps != "") print "deb-src " (opts == "" ? "" : opts " ") uri " " suite comps
    }
  ' "$@"
}

# apt with only our deb-src entries, our own lists and cache (nothing of the
# machine's is read for sources or written); the rest of its configuration
# (proxies, keyrings, ...) still applies.
APT_OPTS=(
  -o "Dir::Etc::SourceList=$APTDIR/sources.list"
  -o "Dir::Etc::SourceParts=$APTDIR/sources.list.d"
  -o "Dir::State::Lists=$APTDIR/lists"
  -o "Dir::Cache=$APTDIR/cache"
  -o "Dir::Cache::pkgcache="
  -o "Dir::Cache::srcpkgcache="
)

configure_private_apt() {
  local SOURCELIST='' SOURCEPARTS='' f
  eval "$(apt-config shell SOURCELIST Dir::Etc::sourcelist/f SOURCEPARTS Dir::Etc::sourceparts/d)"
  echo "machine's apt sources: ${SOURCELIST:-none} ${SOURCEPARTS:-none}"
  rm -rf "$APTDIR/sources.list.d"
  mkdir -p "$APTDIR/sources.list.d" "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
  : >"$APTDIR/sources.list"
  {
    if [ -n "$SOURCELIST" ] && [ -f "$SOURCELIST" ]; then list_to_src "$SOURCELIST"; fi
    if [ -n "$SOURCEPARTS" ] && [ -d "$SOURCEPARTS" ]; then
      for f in "$SOURCEPARTS"/*.list; do if [ -f "$f" ]; then list_to_src "$f"; fi; done
    fi
  } >"$APTDIR/sources.list.d/debian-src.list"
  if [ -n "$SOURCEPARTS" ] && [ -d "$SOURCEPARTS" ]; then
    for f in "$SOURCEPARTS"/*.sources; do if [ -f "$f" ]; then deb822_to_src "$f"; fi; done
  fi >"$APTDIR/sources.list.d/debian-src.sources"
  echo "--- derived deb-src entries:"
  cat "$APTDIR/sources.list.d/debian-src.list" "$APTDIR/sources.list.d/debian-src.sources"
  if ! grep -q . "$APTDIR/sources.list.d/debian-src.list" "$APTDIR/sources.list.d/debian-src.sources"; then
    echo "error: no Debian bookworm entry (matching $SUITES_RE) found in the machine's apt sources"
    return 1
  fi
}

# Source versions of $1 that the signed Sources indices list, newest first.
listed_versions() {
  local v sorted=() i j
  while read -r v; do
    # Insertion by Debian's own version order (sort -V does not know epochs or '~').
    for ((i = 0; i < ${#sorted[@]}; i++)); do
      dpkg --compare-versions "$v" gt "${sorted[i]}" && break
    done
    sorted=("${sorted[@]:0:i}" "$v" "${sorted[@]:i}")
  done < <(apt-cache "${APT_OPTS[@]}" showsrc --only-source "$1" | sed -n 's/^Version: //p' | sort -u)
  for j in "${sorted[@]}"; do echo "$j"; done
}

# A mirror can list a version in its index that its pool does not serve (a 404
# for the newest security upload, seen on fresh machines). So each package is
# tried at every listed version, newest first, until one downloads; the choice
# and the reasons for the versions passed over go to $SRC/$p.choice.
# MODTRACE_DEPS_REFUSE="zlib elfutils" makes the newest version of each named
# package count as unavailable: the test of this fallback uses it.
fetch_one() {
  local p=$1 v dir reason first=1 tried=() versions
  mapfile -t versions < <(listed_versions "$p")
  [ ${#versions[@]} -gt 0 ] || { echo "no version of source package $p is listed"; return 1; }
  for v in "${versions[@]}"; do
    dir=$SRC/download/$p-$v
    rm -rf "$dir" && mkdir -p "$dir"
    if [ $first -eq 1 ] && [[ " ${MODTRACE_DEPS_REFUSE:-} " == *" $p "* ]]; then
      reason="refused by MODTRACE_DEPS_REFUSE"
    elif (cd "$dir" && apt-get "${APT_OPTS[@]}" source --download-only "$p=$v") >"$dir.log" 2>&1; then
      cat "$dir.log"
      {
        echo "$p $v"
        for reason in "${tried[@]}"; do echo "  passed over $reason"; done
      } >"$SRC/$p.choice"
      echo "$v" >"$SRC/$p.version"
      dpkg-source -x "$dir/${p}_"*.dsc "$SRC/$p" # the files were checked by apt against the signed index
      return 0
    else
      cat "$dir.log"
      reason=$(grep -m1 '^E: ' "$dir.log" | sed 's/^E: //; s/ *\[IP:.*//' | cut -c1-200)
      reason=${reason:-apt-get source failed}
    fi
    tried+=("$v: $reason")
    first=0
  done
  echo "no listed version of $p could be downloaded:"
  printf '  %s\n' "${tried[@]}"
  return 1
}

fetch_sources() {
  apt_update "${APT_OPTS[@]}"
  rm -rf "$SRC"
  mkdir -p "$SRC/download"
  local p
  for p in "${SOURCE_PACKAGES[@]}"; do fetch_one "$p"; done
}

# --- builds --------------------------------------------------------------------

build_zlib() {
  cd "$SRC/zlib"
  CFLAGS="$CFLAGS_PIC" ./configure --static --prefix="$PREFIX"
  make -j"$JOBS" libz.a
  make install
}

build_libelf() {
  cd "$SRC/elfutils"
  CPPFLAGS="-I$PREFIX/include" LDFLAGS="-L$PREFIX/lib" CFLAGS="$CFLAGS_PIC" \
    ./configure --prefix="$PREFIX" --disable-debuginfod --disable-libdebuginfod \
      --without-bzlib --without-lzma --without-zstd --disable-nls
  make -j"$JOBS" -C lib
  make -j"$JOBS" -C libelf libelf_pic.a
  install -d "$PREFIX/lib" "$PREFIX/include"
  install -m 644 libelf/libelf_pic.a "$PREFIX/lib/"
  install -m 644 libelf/libelf.h libelf/gelf.h libelf/nlist.h "$PREFIX/include/"
}

build_libbpf() {
  cd "$SRC/libbpf"
  mkdir -p build   # its Makefile races creating OBJDIR under -j
  # NO_PKG_CONFIG: take libelf's and zlib's headers from our prefix, never the system's.
  make -C src -j"$JOBS" BUILD_STATIC_ONLY=1 NO_PKG_CONFIG=1 \
    OBJDIR="$PWD/build" PREFIX="$PREFIX" LIBDIR="$PREFIX/lib" \
    CFLAGS="$CFLAGS_PIC" EXTRA_CFLAGS="-I$PREFIX/include" \
    install install_headers
}

# --- main ----------------------------------------------------------------------

mkdir -p "$LOGS"
step tools install_build_tools
say "fetching Debian source packages: ${SOURCE_PACKAGES[*]} (logs in $LOGS)"
step apt-config configure_private_apt
step fetch fetch_sources
for p in "${SOURCE_PACKAGES[@]}"; do
  say "source $(head -1 "$SRC/$p.choice")"
  tail -n +2 "$SRC/$p.choice" | while read -r line; do say "  $line"; done
done
rm -rf "$PREFIX"
for p in zlib libelf libbpf; do
  src=$p; [ "$p" = libelf ] && src=elfutils
  say "building $p from $src $(cat "$SRC/$src.version")"
  step "$p" "build_$p"
done
# The Debian versions built, for the shim to report (modtrace --version).
printf '#define MT_DEPS_VERSIONS "libbpf %s, libelf (elfutils) %s, zlib %s"\n' \
  "$(cat "$SRC/libbpf.version")" "$(cat "$SRC/elfutils.version")" "$(cat "$SRC/zlib.version")" \
  >"$PREFIX/include/modtrace-deps.h"
for f in "${OUTPUTS[@]}"; do
  [ -f "$PREFIX/$f" ] || { say "missing $PREFIX/$f after the build"; exit 1; }
done
stamp_value >"$STAMP"
say "done: $PREFIX/lib/{libbpf.a,libelf_pic.a,libz.a}, headers in $PREFIX/include"
