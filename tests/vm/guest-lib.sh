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

# start NAME MODTRACE_ARGS...: a capture writing events.json (or $EVENTS,
# where the script sets it) and modtrace.err in $OUT/NAME, returning once it
# says it is capturing; DIR and MT name it for the steps and for stop.
# Several can run at once: stop NAME stops that one. $ATTACH, where the
# script sets it, pins every capture's attach mode.
start() {
  DIR=$OUT/$1; shift
  mkdir -p "$DIR"
  : > "$DIR/steps.txt"
  modtrace -o "json:${EVENTS:-$DIR/events.json}" ${ATTACH:+--attach "$ATTACH"} "$@" 2> "$DIR/modtrace.err" &
  MT=$!
  echo "$MT" > "/tmp/capture-$(basename "$DIR").pid"
  i=0
  while ! grep -q capturing "$DIR/modtrace.err"; do
    if ! kill -0 $MT 2>/dev/null || [ $i -gt 1200 ]; then echo "modtrace ($DIR) did not start"; cat "$DIR/modtrace.err"; break; fi
    i=$((i + 1)); sleep 0.1
  done
  echo "--- $DIR: capturing after ~$((i / 10)) s"
}

# wait_finding RULE [TEXT]: up to 60 s for a finding of RULE, with TEXT (a
# fixed string) on its line, in the capture's events.json: a fact to wait on,
# where a pause would guess how long a scan takes under emulation. With TEXT,
# RULE may be an event's name too (a scan event: ftrace_hook).
wait_finding() {
  i=0
  while ! grep -F "\"eventName\":\"$1\"" "$DIR/events.json" | grep -qF -- "${2:-\"finding\":true}"; do
    if [ $i -ge 600 ]; then echo "no $1 finding ${2:-} within 60 s"; return; fi
    i=$((i + 1)); sleep 0.1
  done
}

# stop [NAME]: Ctrl-C to the capture start NAME began (the last one started,
# without NAME), its exit status to modtrace.rc, then the script's cleanup
# function, if it has one. The capture reads its rings to the end after the
# Ctrl-C: every step's records are in by then.
stop() {
  if [ -n "$1" ]; then DIR=$OUT/$1; MT=$(cat "/tmp/capture-$1.pid"); fi
  kill -INT $MT
  wait $MT
  echo $? > "$DIR/modtrace.rc"
  echo "--- $DIR: modtrace exited $(cat "$DIR/modtrace.rc"):"; cat "$DIR/modtrace.err"
  if command -v cleanup >/dev/null 2>&1; then cleanup; fi
}
