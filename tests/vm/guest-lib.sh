# Prepended to every vm-tier guest script (guestScript() in run.ts): where
# the modules and the trigger are, and step().
KVER=$(uname -r)
MODS=/lib/modules/$KVER
DUMMY=$MODS/kernel/drivers/net/dummy.ko
TRIGGER=/root/trigger

# step NAME COMMAND...: runs COMMAND in a process whose pid is recorded in
# $DIR/steps.txt as "NAME PID EXIT_STATUS". The module tools go by path:
# busybox's sh would exec its own applets of the same names.
step() {
  name=$1; shift
  sh -c 'echo "$$" > /tmp/step.pid; exec "$@"' "$name" "$@" > /tmp/step.out 2>&1
  rc=$?
  echo "$name $(cat /tmp/step.pid) $rc" >> "$DIR/steps.txt"
  echo "step $name: exit $rc"
}

# start DIR MODTRACE_ARGS...: a capture writing events.json and modtrace.err
# in $OUT/DIR, once it says it is capturing; DIR and MT name it for stop.
start() {
  DIR=$OUT/$1; shift
  mkdir -p "$DIR"
  : > "$DIR/steps.txt"
  modtrace -o "json:$DIR/events.json" "$@" 2> "$DIR/modtrace.err" &
  MT=$!
  i=0
  while ! grep -q capturing "$DIR/modtrace.err"; do
    if ! kill -0 $MT 2>/dev/null || [ $i -gt 1200 ]; then echo "modtrace did not start"; cat "$DIR/modtrace.err"; break; fi
    i=$((i + 1)); sleep 0.1
  done
}

# stop: Ctrl-C to the capture start began, its exit status to modtrace.rc,
# then the script's cleanup function, if it has one.
stop() {
  sleep 0.3
  kill -INT $MT
  wait $MT
  echo $? > "$DIR/modtrace.rc"
  echo "--- $DIR: modtrace exited $(cat "$DIR/modtrace.rc"):"; cat "$DIR/modtrace.err"
  if command -v cleanup >/dev/null 2>&1; then cleanup; fi
}
