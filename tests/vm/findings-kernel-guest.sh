# Runs inside the VM (tests/vm/findings-kernel.test.ts): the kernel watches
# against the rootkit-like test modules (tests/vm/modules). One capture under
# $OUT/cap/: normal loads first (dummy, the 8021q chain, mt_plain), then the
# hiders, then the hooks, each in its own step with a pause so a scan sees it
# (and so each hook's finding names its own module as the last one
# initialised). $HARNESS, when set, is the temporary watch-harness that runs
# the watches beside modtrace until modtrace runs them itself. Also sent back:
# ppid.txt (getppid() after the hooks), proc-modules.txt, sys-module.txt.
# guest-lib.sh comes first.
M=/root/mods
DIR=$OUT/cap
mkdir -p "$DIR"
: > "$DIR/steps.txt"
: > "$DIR/harness.json"

# Waits until FILE contains TEXT or process PID exits (60 s at most).
await() {
  i=0
  while ! grep -q "$2" "$1" 2>/dev/null; do
    if ! kill -0 "$3" 2>/dev/null || [ $i -gt 600 ]; then echo "no '$2' in $1:"; cat "$1"; return 1; fi
    i=$((i + 1)); sleep 0.1
  done
}

modtrace -o "json:$DIR/events.json" 2> "$DIR/modtrace.err" &
MT=$!
await "$DIR/modtrace.err" capturing $MT
if [ -n "$HARNESS" ]; then
  "$HARNESS" "$DIR/events.json" "$DIR/harness.json" 2> "$DIR/harness.err" &
  WH=$!
  await "$DIR/harness.err" "syscall_dispatch_changed:" $WH
  cat "$DIR/harness.err"
fi

pause() { sleep 3; }
step insmod-dummy /sbin/insmod "$DUMMY"; pause
step modprobe /sbin/modprobe 8021q; pause
step rmmod-dummy /sbin/rmmod dummy; pause
step plain /sbin/insmod $M/mt_plain.ko; pause
step hide-list /sbin/insmod $M/mt_hide_list.ko; pause
step hide-kobj /sbin/insmod $M/mt_hide_kobj.ko; pause
step hook-table /sbin/insmod $M/mt_hook_table.ko; pause
step hook-dispatch /sbin/insmod $M/mt_hook_dispatch.ko; pause

sh -c 'echo $PPID' > "$OUT/ppid.txt"
cat /proc/modules > "$OUT/proc-modules.txt"
ls /sys/module > "$OUT/sys-module.txt"

kill -INT $MT
wait $MT
echo $? > "$DIR/modtrace.rc"
echo "--- modtrace exited $(cat "$DIR/modtrace.rc"):"; cat "$DIR/modtrace.err"
if [ -n "$HARNESS" ]; then
  kill -INT $WH
  wait $WH
  echo "--- harness findings:"; cat "$DIR/harness.json"
fi
echo "--- getppid() after the hooks: $(cat "$OUT/ppid.txt")"
grep -E "^(mt_|dummy|8021q)" "$OUT/proc-modules.txt"
exit 0
