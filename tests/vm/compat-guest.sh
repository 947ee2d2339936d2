# Runs inside the VM (tests/vm/compat.test.ts): the module syscalls through
# the 32-bit entry (int 0x80 from a 64-bit process), and i386 calls whose
# numbers are x86_64's module syscalls. Per attach mode in $MODES, under
# $OUT/$MODE/: steps.txt (NAME PID EXIT_STATUS), events.json, modtrace.err,
# modtrace.rc, and each step's own output as STEP.out. guest-lib.sh comes first.
cleanup() {
  /sbin/rmmod dummy 2>/dev/null
}

modtrace doctor > "$OUT/doctor.txt" 2>&1
for MODE in $MODES; do
  start "$MODE" --attach "$MODE"
  step insmod64 /sbin/insmod "$DUMMY"   # the 64-bit entry, for comparison
  step rmmod64 /sbin/rmmod dummy
  for s in "load int80 load $DUMMY" "unload int80 unload dummy" "noise int80 noise 2000"; do
    set -- $s
    name=$1; shift
    step "$name" "$TRIGGER" "$@"
    cp /tmp/step.out "$DIR/$name.out"
  done
  stop
done
exit 0 # the test judges each step by its recorded status
