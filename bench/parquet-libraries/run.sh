#!/usr/bin/env bash
# The Parquet writer comparison recorded in docs/ANALYSIS.md: three binaries
# compiled as modtrace is (bun build --compile --minify), the same rows
# (the fleet fixtures' real events, repeated with the host varied):
#   rows-only, hyparquet-writer (modtrace's writer), parquet-wasm (+ apache-arrow, ZSTD).
# Prints each binary's size, its start-up (mean of 20 runs that only load),
# and its write speed. Run from the repository after ./build.sh.
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund --loglevel=error >/dev/null
BUN=../../node_modules/.bin/bun
ROWS=${1:-200000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for x in rows-only hyparquet-writer parquet-wasm; do
  $BUN build --compile --minify "$x.ts" --outfile "$out/$x" >/dev/null
  start=$(date +%s%N)
  for _ in $(seq 20); do "$out/$x" noop; done
  echo "$x: $(stat -c %s "$out/$x") bytes, start-up $(( ($(date +%s%N) - start) / 20000000 )) ms"
done
for x in hyparquet-writer parquet-wasm; do "$out/$x" ../../tests/fixtures/vm "$ROWS"; done
