# Runs inside the VM (tests/vm/identity.test.ts): module images hashed and
# saved. Per attach mode in $MODES, under $OUT/$MODE/: steps.txt (NAME PID
# EXIT_STATUS per step, the pid of the process that made the syscall),
# events.json, modtrace.err, modtrace.rc. The first mode also runs the rest
# of the scenarios (failing init, .ko.xz, a module over 2 MiB, a file
# replaced after its load); then, once: save/ (--save-modules, the saved
# files under save/saved/), capped/ (--save-limit) and small-ring/
# (--image-buffer-size 1 with a 4 MiB module). guest-lib.sh comes first.

# After each capture (stop, in guest-lib.sh): a clean slate of modules.
cleanup() {
  for m in 8021q garp mrp stp llc dummy xfs libcrc32c crc32c_generic crc32c_intel; do /sbin/rmmod $m 2>/dev/null; done
}

FIRST=${MODES%% *}
for MODE in $MODES; do
  start "$MODE" --attach "$MODE"
  step insmod /sbin/insmod "$DUMMY"                      # finit_module
  step rmmod /sbin/rmmod dummy
  step image "$TRIGGER" image "$DUMMY"                   # init_module from memory
  step rmmod-image /sbin/rmmod dummy
  step modprobe /sbin/modprobe 8021q                     # five finit_module calls
  if [ "$MODE" = "$FIRST" ]; then
    step init-fails /sbin/modprobe acpi_cpufreq          # the image is read, then init fails
    step insmod-xz /sbin/insmod /root/dummy.ko.xz        # kmod decompresses: init_module
    step rmmod-xz /sbin/rmmod dummy
    step big /sbin/modprobe xfs                          # 4 MiB, after crc32c and libcrc32c
    cp "$DUMMY" /tmp/replaced.ko
    step replaced /sbin/insmod /tmp/replaced.ko
    cp "$MODS/kernel/net/8021q/8021q.ko" /tmp/replaced.ko  # the path now holds another module
    step rmmod-replaced /sbin/rmmod dummy
  fi
  stop
done

# --save-modules: dummy twice (stored once) and the 8021q chain.
start save --save-modules /tmp/saved
step insmod /sbin/insmod "$DUMMY"
step rmmod /sbin/rmmod dummy
step insmod-again /sbin/insmod "$DUMMY"
step rmmod-again /sbin/rmmod dummy
step modprobe /sbin/modprobe 8021q
stop
mkdir -p "$OUT/save/saved"
cp /tmp/saved/* "$OUT/save/saved/"
ls -la /tmp/saved > "$OUT/save/ls.txt"

# --save-limit 100K: dummy and the small modules fit, xfs does not.
start capped --save-modules /tmp/capped --save-limit 100K
step insmod /sbin/insmod "$DUMMY"
step rmmod /sbin/rmmod dummy
step big /sbin/modprobe xfs
stop
ls -la /tmp/capped > "$OUT/capped/ls.txt"
for f in /tmp/capped/*; do sha256sum "$f"; done > "$OUT/capped/sha256sum.txt"

# A 1 MiB image ring cannot hold xfs: no hash for it, and a reason.
start small-ring --image-buffer-size 1
step big /sbin/modprobe xfs
stop
exit 0
