# The host tier (tests/host), unchanged, on the guest's kernel: one run of
# `bun test $FILES` per attach mode in $MODES, which MODTRACE_ATTACH pins for every
# capture and doctor the tests start (a test that asks for a mode itself still
# gets it). The repo's tests and sources are in /root/repo, dist/modtrace is
# the image's /bin/modtrace.
cd /root/repo
mkdir -p dist && ln -sf /bin/modtrace dist/modtrace
for mode in $MODES; do
  echo "@@ host tier, --attach $mode"
  MODTRACE_ATTACH=$mode bun test --timeout 300000 $FILES > "$OUT/host-$mode.txt" 2>&1
  echo $? > "$OUT/host-$mode.rc"
  tail -5 "$OUT/host-$mode.txt"
done
