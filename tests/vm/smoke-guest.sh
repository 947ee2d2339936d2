# Runs inside the VM (tests/vm/smoke.test.ts; or by hand:
#   bun tests/vm/run.ts tests/vm/smoke-guest.sh /root/dummy.ko.xz=HOST_PATH_OF_AN_XZ_DUMMY_KO).
# modtrace captures around real insmod, rmmod, modprobe and a kernel autoload.
# Every file left in $OUT goes back to the host:
#   steps.txt      one line per step: NAME PID EXIT_STATUS (the pid of the process
#                  that made the syscall: each step execs its command)
#   events.json    modtrace -o json; modtrace.err its stderr; modtrace.rc its exit status
#   doctor.txt     modtrace doctor (stdout and stderr); doctor.rc
#   ldd.txt        the dynamic loader's list of modtrace's libraries
#   forbidden.txt  any libbpf, libelf or libz file in the guest (should be empty)
#   lsmod-*.txt, filesystems.txt, netdevs.txt
KVER=$(uname -r)
MODS=/lib/modules/$KVER
DUMMY=$MODS/kernel/drivers/net/dummy.ko

# step NAME COMMAND...: runs COMMAND in a process whose pid is recorded. The module
# tools go by path: busybox's sh would exec its own applets of the same names.
step() {
  name=$1; shift
  sh -c 'echo "$$" > /tmp/step.pid; exec "$@"' "$name" "$@"
  rc=$?
  echo "$name $(cat /tmp/step.pid) $rc" >> "$OUT/steps.txt"
  echo "step $name: exit $rc"
}

/lib64/ld-linux-x86-64.so.2 --list /bin/modtrace > "$OUT/ldd.txt" 2>&1
find / -xdev \( -name 'libbpf*' -o -name 'libelf*' -o -name 'libz.so*' \) > "$OUT/forbidden.txt"

modtrace doctor > "$OUT/doctor.txt" 2>&1
echo $? > "$OUT/doctor.rc"
echo "--- modtrace doctor (exit $(cat "$OUT/doctor.rc"))"; cat "$OUT/doctor.txt"

modtrace -o json:/tmp/events.json 2> /tmp/modtrace.err &
MT=$!
i=0
while ! grep -q capturing /tmp/modtrace.err; do
  if ! kill -0 $MT 2>/dev/null; then echo "modtrace exited before capturing"; break; fi
  i=$((i + 1))
  if [ $i -gt 1200 ]; then echo "modtrace did not say capturing within 120 s"; break; fi
  sleep 0.1
done
echo "--- modtrace started after ~$((i / 10)) s:"; cat /tmp/modtrace.err

step insmod /sbin/insmod "$DUMMY" numdummies=2
ls /sys/class/net > "$OUT/netdevs.txt"
step insmod-again /sbin/insmod "$DUMMY"               # EEXIST: a failed load
lsmod > "$OUT/lsmod-dummy.txt"
step rmmod /sbin/rmmod dummy
step modprobe /sbin/modprobe 8021q                    # llc, stp, garp, mrp, then 8021q
lsmod > "$OUT/lsmod-8021q.txt"
# The kernel's own load: get_fs_type() calls request_module("fs-iso9660"), which
# runs /sbin/modprobe; the mount then fails for want of a device.
step autoload-mount mount -t iso9660 none /mnt
grep iso9660 /proc/filesystems > "$OUT/filesystems.txt"
lsmod > "$OUT/lsmod-autoload.txt"
# A compressed module: kmod decompresses it and uses init_module.
if [ -f /root/dummy.ko.xz ]; then
  step insmod-xz /sbin/insmod /root/dummy.ko.xz numdummies=1
  step rmmod-xz /sbin/rmmod dummy
fi
step rmmod-missing /sbin/rmmod dummy                  # ENOENT: a failed unload

sleep 0.5
kill -INT $MT
wait $MT
echo $? > "$OUT/modtrace.rc"
echo "--- modtrace exited $(cat "$OUT/modtrace.rc"):"; cat /tmp/modtrace.err
cp /tmp/modtrace.err "$OUT/modtrace.err"
cp /tmp/events.json "$OUT/events.json" 2>/dev/null
echo "--- steps"; cat "$OUT/steps.txt"
echo "--- events"; cat /tmp/events.json 2>/dev/null | head -c 2000; echo
exit 0
