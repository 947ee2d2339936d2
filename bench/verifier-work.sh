#!/usr/bin/env bash
# The verifier's work on the programs one capture loads (as root, after
# ./build.sh): starts `dist/modtrace capture` with the given options, reads
# the ids of the programs it holds from /proc, prints what the verifier
# processed for each (docs/PERFORMANCE.md, "Settings as globals"), stops it.
#   bench/verifier-work.sh [capture options...]    e.g. --pid 1, --ancestors 0
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS=.cache/deps/prefix
mkdir -p build
if [ ! -x build/verifier-work ] || [ bench/verifier-work.c -nt build/verifier-work ]; then
  gcc -O2 -Wall -Werror -I"$DEPS/include" -o build/verifier-work bench/verifier-work.c \
    "$DEPS/lib/libbpf.a" "$DEPS/lib/libelf_pic.a" "$DEPS/lib/libz.a"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dist/modtrace capture -o json:/dev/null --no-findings --duration 60 "$@" 2>"$log" &
capture=$!
until grep -q capturing "$log"; do
  kill -0 "$capture" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.2
done
grep -h '^prog_id:' /proc/$capture/fdinfo/* | awk '{print $2}' | sort -un | xargs build/verifier-work
kill -INT "$capture"
wait "$capture" || true
