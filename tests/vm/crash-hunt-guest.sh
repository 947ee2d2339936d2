# Runs inside the VM (tests/vm/crash-hunt.ts): $ROUNDS captures, taking the
# attach modes of $MODES (comma-separated) in turn, each with $EXTRA options
# and the environment $MTENV, around the smoke scenario's busiest part; then
# an offline read of each capture's log (the decoder alone, no ring). Each
# one's exit status goes to $OUT/rounds.txt and, when it is not 0, its stderr
# (Bun's crash report) to $OUT/err-N.txt. guest-lib.sh comes first.
set -- $(echo "$MODES" | tr , ' ')
# Logs go in a directory of root's alone (modtrace refuses one everyone can
# write, as /tmp), replaced each round (--overwrite).
mkdir -p -m 0700 /tmp/mt
for i in $(seq 1 "$ROUNDS"); do
  MODE=$(eval echo "\${$(( (i - 1) % $# + 1 ))}")
  rm -f /tmp/err # not truncated by the redirection below: the wait could read the last round's line
  env $MTENV modtrace --attach "$MODE" --buffer-size 64 $EXTRA --overwrite -o json:/tmp/mt/e.json -o cbor:/tmp/mt/e.cbor 2> /tmp/err &
  MT=$!
  n=0
  while ! grep -q capturing /tmp/err 2>/dev/null; do
    if ! kill -0 $MT 2>/dev/null || [ $n -gt 1200 ]; then break; fi
    n=$((n + 1)); sleep 0.1
  done
  /sbin/insmod "$DUMMY" numdummies=2; /sbin/rmmod dummy
  /sbin/modprobe 8021q
  $TRIGGER uid 65534 > /dev/null
  $TRIGGER burst 20000 > /dev/null
  # Stop once the burst's last call is in the log (a fact, not a pause); the
  # wait is bounded so a capture that stalls is still stopped and counted.
  n=0
  while [ "$(grep -c '"delete_module"' /tmp/mt/e.json 2>/dev/null)" -lt 20001 ] && [ $n -lt 300 ] && kill -0 $MT 2>/dev/null; do
    n=$((n + 1)); sleep 0.1
  done
  kill -INT $MT 2>/dev/null
  wait $MT
  rc=$?
  echo "round $i $MODE capture rc $rc" | tee -a "$OUT/rounds.txt"
  [ $rc -ne 0 ] && cp /tmp/err "$OUT/err-$i.txt"
  env $MTENV modtrace read /tmp/mt/e.cbor -o json > /dev/null 2> /tmp/err
  rc=$?
  echo "round $i $MODE read rc $rc" | tee -a "$OUT/rounds.txt"
  [ $rc -ne 0 ] && cp /tmp/err "$OUT/err-$i-read.txt"
  rm -f /tmp/mt/e.json /tmp/mt/e.cbor
  for m in 8021q garp mrp stp llc; do /sbin/rmmod $m 2>/dev/null; done
done
exit 0
