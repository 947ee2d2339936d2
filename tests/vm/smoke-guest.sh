# Runs inside the VM (tests/vm/smoke.test.ts). For each attach mode in $MODES,
# modtrace captures around real module work; every file left in $OUT goes
# back to the host, per mode under $OUT/$MODE/:
#   steps.txt      one line per step: NAME PID EXIT_STATUS (the pid of the process
#                  that made the syscall: each step execs its command)
#   events.json    modtrace -o json; events.cbor the same capture as CBOR;
#                  modtrace.err its stderr; modtrace.rc its exit status
#   burst.json, getppid.json (3 lines, traced), getppid-bare.json (3 lines, just
#                  before modtrace started)   what the trigger measured
# and once: events-list.txt, doctor.txt/doctor.rc, ldd.txt, forbidden.txt.
# guest-lib.sh comes first.
/lib64/ld-linux-x86-64.so.2 --list /bin/modtrace > "$OUT/ldd.txt" 2>&1
find / -xdev \( -name 'libbpf*' -o -name 'libelf*' -o -name 'libz.so*' \) > "$OUT/forbidden.txt"
modtrace events > "$OUT/events-list.txt" 2>&1
modtrace doctor > "$OUT/doctor.txt" 2>&1
echo $? > "$OUT/doctor.rc"
echo "--- modtrace doctor (exit $(cat "$OUT/doctor.rc"))"; cat "$OUT/doctor.txt"

for MODE in $MODES; do
  DIR=$OUT/$MODE
  mkdir -p "$DIR"
  for i in 1 2 3; do $TRIGGER getppid 200000; done > "$DIR/getppid-bare.json"
  # kprobe mode reads at the syscall's exit (one program per call, arguments
  # from the saved user registers); fentry at entry and raw at exit, their default.
  READ_AT=auto; [ "$MODE" = kprobe ] && READ_AT=exit
  # Software emulation is slow to drain: a ring that holds the whole burst.
  start "$MODE" --attach "$MODE" --read-at "$READ_AT" --buffer-size 64 -o "cbor:$DIR/events.cbor"

  step insmod /sbin/insmod "$DUMMY" numdummies=2
  grep '^dummy ' /proc/modules > "$DIR/dummy-proc-modules.txt" # the kernel's word on where its code lies
  step insmod-again /sbin/insmod "$DUMMY"               # EEXIST: a failed load
  step rmmod /sbin/rmmod dummy
  step modprobe /sbin/modprobe 8021q                    # llc, stp, garp, mrp, then 8021q
  # busybox's rmmod calls delete_module even for a module in use (kmod's checks first).
  step rmmod-in-use busybox rmmod llc                   # EAGAIN: stp holds llc
  # The kernel's own load: get_fs_type() calls request_module("fs-iso9660"), which
  # runs /sbin/modprobe; the mount then fails for want of a device.
  step autoload-mount mount -t iso9660 none /mnt
  step init-fails /sbin/modprobe acpi_cpufreq           # its init finds no ACPI P-states
  step unprivileged $TRIGGER uid 65534                  # delete_module as nobody: EPERM
  # A compressed module: kmod decompresses it itself and calls init_module.
  step insmod-xz /sbin/insmod /root/dummy.ko.xz numdummies=1
  step rmmod-xz /sbin/rmmod dummy
  step rmmod-missing busybox rmmod dummy                # ENOENT
  $TRIGGER burst 20000 > "$DIR/burst.json"
  for i in 1 2 3; do $TRIGGER getppid 200000; done > "$DIR/getppid.json"

  stop
  # Back to a clean slate for the next mode, outside any capture.
  for m in 8021q garp mrp stp llc isofs cdrom; do /sbin/rmmod $m 2>/dev/null; done
done
# Flood resistance: two unprivileged floods of failing delete_module calls, one
# per CPU, with a tiny bulk ring, while root loads and unloads a real module.
# The floods stop once the loads are done. Their events are counted here and
# left out of what goes back to the host (hundreds of MB of JSON would take
# minutes on the serial line): flood/flood-events.txt holds "PID COUNT" per flood.
mkdir -p -m 0700 /tmp/flood # modtrace refuses a directory everyone can write, as /tmp
EVENTS=/tmp/flood/events.json start flood --buffer-size 1
$TRIGGER flood 65534 120 > "$DIR/flood1.json" &
F1=$!
$TRIGGER flood 65534 120 > "$DIR/flood2.json" &
F2=$!
# Both floods under way (their failed calls in the log) before the loads begin.
i=0
until grep -q "\"hostProcessId\":$F1," /tmp/flood/events.json && grep -q "\"hostProcessId\":$F2," /tmp/flood/events.json; do
  if [ $i -ge 600 ]; then echo "the floods' calls did not reach the log within 60 s"; break; fi
  i=$((i + 1)); sleep 0.1
done
for i in 1 2 3 4 5; do
  step "load$i" /sbin/insmod "$DUMMY"
  step "unload$i" /sbin/rmmod dummy
done
kill -TERM $F1 $F2
wait $F1 $F2
stop
for F in $F1 $F2; do
  echo "$F $(grep -c "\"hostProcessId\":$F," /tmp/flood/events.json)" >> "$DIR/flood-events.txt"
done
grep -v -e "\"hostProcessId\":$F1," -e "\"hostProcessId\":$F2," /tmp/flood/events.json > "$DIR/events.json"
rm /tmp/flood/events.json
exit 0
