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
