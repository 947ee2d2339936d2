# Runs inside the VM (tests/vm/crash-hunt.ts): $ROUNDS captures in $MODE
# (plus $EXTRA options) around the smoke scenario's busiest part, each one's
# exit status to $OUT/rounds.txt and, when it is not 0, its stderr (Bun's
# crash report) to $OUT/err-N.txt. guest-lib.sh comes first.
for i in $(seq 1 "$ROUNDS"); do
  rm -f /tmp/err # not truncated by the redirection below: the wait could read the last round's line
  modtrace --attach "$MODE" --buffer-size 64 $EXTRA -o json:/tmp/e.json -o cbor:/tmp/e.cbor 2> /tmp/err &
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
  sleep 0.3
  kill -INT $MT 2>/dev/null
  wait $MT
  rc=$?
  echo "round $i rc $rc" | tee -a "$OUT/rounds.txt"
  [ $rc -ne 0 ] && cp /tmp/err "$OUT/err-$i.txt"
  rm -f /tmp/e.json /tmp/e.cbor
  for m in 8021q garp mrp stp llc; do /sbin/rmmod $m 2>/dev/null; done
done
exit 0
