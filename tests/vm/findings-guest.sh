# Runs inside the VM (tests/vm/findings.test.ts): real module work that each
# trace rule must judge, in one capture under $OUT/rules/ (steps.txt,
# events.json, events.cbor, modtrace.err, modtrace.rc) and /root/mt_plain.ko,
# an out-of-tree unsigned module built for this kernel; then race/, a capture
# around a name changed during delete_module. guest-lib.sh comes first.
cleanup() {
  for m in dummy mt_plain; do /sbin/rmmod $m 2>/dev/null; done
}

start rules -o "cbor:$OUT/rules/events.cbor"
cp "$DUMMY" /tmp/dummy.ko
step tmp-load /sbin/insmod /tmp/dummy.ko              # unusual_load_path: /tmp
step tmp-unload /sbin/rmmod dummy
cp "$DUMMY" /tmp/e1000.ko
step renamed /sbin/insmod /tmp/e1000.ko               # name_file_mismatch, and /tmp again
step renamed-unload /sbin/rmmod dummy
step memfd "$TRIGGER" memfd "$DUMMY"                  # finit_module of a memfd by a non-tool
step memfd-unload /sbin/rmmod dummy
step image "$TRIGGER" image "$DUMMY"                  # init_module from memory by a non-tool
step image-unload /sbin/rmmod dummy
step plain /sbin/insmod /root/mt_plain.ko             # out-of-tree, unsigned
step plain-unload /sbin/rmmod mt_plain                # and gone again at once: hit and run
step forced /sbin/modprobe --force-vermagic dummy     # version magic ignored: forced
step forced-unload /sbin/rmmod dummy
step userns unshare -U -r /sbin/insmod "$DUMMY"       # from a user namespace: EPERM
step force-load /sbin/insmod "$DUMMY"
step force-unload /sbin/rmmod -f dummy                # O_TRUNC
step security busybox rmmod lkrg                      # a security tool's module (not loaded: ENOENT)
for i in 1 2 3 4 5; do step "probe$i" "$TRIGGER" uid 65534; done   # EPERM, five times
step autoload "$TRIGGER" autoload 65534               # DCCP socket as nobody: net-pf-2-proto-33-type-6
stop
# A name that changes during delete_module: a second thread flips it between
# dummy and dummx; the capture reads it at the call's exit, so about every
# other successful unload shows the name the kernel did not act on.
start race --read-at exit
for i in $(seq 16); do
  step "race-load$i" /sbin/insmod "$DUMMY"
  "$TRIGGER" race dummy dummx >> "$DIR/race.json"
done
stop
# The same log judged offline, in the guest as a user would.
modtrace findings -o json "$OUT/rules/events.cbor" > "$OUT/rules/offline.json" 2> "$OUT/rules/offline.err"
echo $? > "$OUT/rules/offline.rc"
exit 0
