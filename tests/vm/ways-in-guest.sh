# Runs inside the VM (tests/vm/ways-in.test.ts): the ways into the module
# syscalls a caller who wants to go unseen would try. Per attach mode in
# $MODES, under $OUT/$MODE/: steps.txt (NAME PID EXIT_STATUS), events.json
# (events and findings), modtrace.err, modtrace.rc, and the trigger's own
# output of each step as STEP.out:
# - the 32-bit entry: int 0x80 from a 64-bit process (load, unload), and
#   i386 calls whose numbers are x86_64's module syscalls (noise);
# - files with no name (unlinked, O_TMPFILE), on a private mount over the
#   module directory, and an fd swapped under a load (swap: mt_slow_init.ko,
#   whose init is slow, with dummy.ko as the decoy);
# - an unsigned out-of-tree module whose init fails (init-fails);
# - kexec: the guest's own kernel staged by kexec_file_load (kexec-file), then
#   unstaged (kexec-file-unload), and kexec_load's unstaging through both
#   entries (kexec-unload, kexec-unload32): the kernel never runs.
# Then the swap alone under --attach fentry --read-at exit (fentry-exit/),
# and an unprivileged flood of autoload requests beside a load (autoload-flood/).
# $OUT/inodes.txt: the inode numbers of the two files of the swap.
# guest-lib.sh comes first.
cleanup() {
  for m in dummy mt_slow_init; do /sbin/rmmod $m 2>/dev/null; done
}

# step NAME TRIGGER_ARGS...: the trigger, its output kept as $DIR/NAME.out.
trig() {
  name=$1; shift
  step "$name" "$TRIGGER" "$@"
  cp /tmp/step.out "$DIR/$name.out"
}

SLOW=/root/mt_slow_init.ko
NETDIR=$MODS/kernel/drivers/net
modtrace doctor > "$OUT/doctor.txt" 2>&1
echo "slow $(stat -c %i $SLOW) decoy $(stat -c %i $DUMMY)" > "$OUT/inodes.txt"
for MODE in $MODES; do
  start "$MODE" --attach "$MODE"
  step insmod64 /sbin/insmod "$DUMMY"   # the 64-bit entry, for comparison
  step rmmod64 /sbin/rmmod dummy
  trig load int80 load "$DUMMY"
  trig unload int80 unload dummy
  trig noise int80 noise 2000
  trig unlinked load-unlinked "$DUMMY"
  step rmmod-unlinked /sbin/rmmod dummy
  trig tmpfile load-tmpfile "$DUMMY" /tmp
  step rmmod-tmpfile /sbin/rmmod dummy
  trig private load-private-mount "$DUMMY" "$NETDIR"
  step rmmod-private /sbin/rmmod dummy
  trig swap load-swap "$SLOW" "$DUMMY"
  step rmmod-swap /sbin/rmmod mt_slow_init
  step init-fails /sbin/insmod /root/mt_init_fails.ko
  trig kexec-file kexec file /root/vmlinuz "console=ttyS0 mt-staged"
  trig kexec-file-unload kexec file-unload
  trig kexec-unload kexec unload
  trig kexec-unload32 kexec unload32
  stop
done
start fentry-exit --attach fentry --read-at exit
trig swap load-swap "$SLOW" "$DUMMY"
step rmmod-swap /sbin/rmmod mt_slow_init
stop
# A flood of autoload requests, which any user can cause (a DCCP socket while
# DCCP is not loaded), while root loads and unloads a module. modtrace is
# stopped (SIGSTOP) meanwhile, so that the flood fills the 1 MiB bulk ring
# whatever the emulator's speed; modprobe points nowhere, so that DCCP never
# loads (each socket asks again) and a request costs no modprobe run.
start autoload-flood --buffer-size 1
MODPROBE=$(cat /proc/sys/kernel/modprobe)
echo /nonexistent/modprobe > /proc/sys/kernel/modprobe
kill -STOP $MT
trig requests autoload 65534 4000
step load /sbin/insmod "$DUMMY"
step unload /sbin/rmmod dummy
kill -CONT $MT
echo "$MODPROBE" > /proc/sys/kernel/modprobe
stop
exit 0 # the test judges each step by its recorded status
