# Runs inside the VM (tests/vm/findings-kernel.ts, one run per attach mode): the kernel watches
# against the rootkit-like test modules (tests/vm/modules). One capture under
# $OUT/cap/: normal loads first (dummy, the 8021q chain, mt_plain), then the
# hiders, then the hooks, each in its own step, and each hider and hook then
# waited for until a scan has reported it (so each hook's finding names its
# own module as the last one initialised). Also sent back:
# ppid.txt (getppid() after the hooks), proc-modules.txt, sys-module.txt;
# and a capture with the autoload helper pointed elsewhere ($OUT/helper/),
# and an autoload run through it (helper.ran, helper.sha256).
# guest-lib.sh comes first.
M=/root/mods
start cap

step insmod-dummy /sbin/insmod "$DUMMY"
step modprobe /sbin/modprobe 8021q
# modtrace scan of a clean kernel: stock modules only, their package's
# record (its md5sums, as dpkg installs it) in the guest's dpkg database.
modtrace scan --json > "$OUT/scan-clean.json" 2> "$OUT/scan-clean.err"; echo $? > "$OUT/scan-clean.rc"
cat /proc/modules > "$OUT/proc-modules-clean.txt"
# A loaded module's file changed on disk (a rootkit making itself persist):
# 8021q's gains a byte, which leaves its srcversion as it was.
echo >> "$MODS/kernel/net/8021q/8021q.ko"
step rmmod-dummy /sbin/rmmod dummy
step plain /sbin/insmod $M/mt_plain.ko
step hide-list /sbin/insmod $M/mt_hide_list.ko; wait_finding hidden_module '"moduleName":"mt_hide_list"'
step hide-kobj /sbin/insmod $M/mt_hide_kobj.ko; wait_finding hidden_module '"moduleName":"mt_hide_kobj"'
step hide-both /sbin/insmod $M/mt_hide_both.ko; wait_finding hidden_module '"moduleName":"mt_hide_both"'
step hook-table /sbin/insmod $M/mt_hook_table.ko; wait_finding syscall_hooked '"moduleName":"mt_hook_table"'
step hook-dispatch /sbin/insmod $M/mt_hook_dispatch.ko; wait_finding syscall_hooked '"moduleName":"mt_hook_dispatch"'
step hook-ia32 /sbin/insmod $M/mt_hook_ia32.ko; wait_finding syscall_hooked '"moduleName":"mt_hook_ia32"'
# Its init hooks the three functions one after another, and a scan can fall
# in between: each finding and each scan event is waited for, before the
# kprobe beside it hides getdents64's owner.
step hook-ftrace /sbin/insmod $M/mt_ftrace_hook.ko
for fn in getpgrp getdents64 proc_pid_readdir; do wait_finding ftrace_hooked "$fn"; wait_finding ftrace_hook "$fn"; done
step kprobe-hook /sbin/insmod $M/mt_kprobe_hook.ko

sh -c 'echo $PPID' > "$OUT/ppid.txt"
/root/trigger int80 getppid > "$OUT/ppid32.txt"
/root/trigger getpgrp > "$OUT/pgrp.txt"
# getdents64 and the /proc iterator go through mt_ftrace_hook's wrappers.
ls /proc > "$OUT/ls-proc.txt"
cat /proc/modules > "$OUT/proc-modules.txt"
ls /sys/module > "$OUT/sys-module.txt"

stop

# A capture that does not see module_load (-e): a staging module (taint C,
# new to this kernel) that hides from the module list. Nothing seen and
# nothing listed explains the new bit; the views alone show the hiding.
start taint -e finit_module,delete_module
step hide-staging /sbin/insmod $M/mt_hide_staging.ko
# hidden_module reports once two scans 2 s apart saw the views disagree, and
# with module_load left out nothing triggers a scan sooner than the next
# periodic one (--scan-interval): wait for the finding.
wait_finding hidden_module mt_hide_staging
stop

# A capture that starts with both hooks already in place (a rootkit that came
# first): the first scan must find them with no baseline to compare against.
# Then both modules unload and put the original bytes back: a restoration.
# modtrace scan with the rootkit in place: every hook, every hider, and the
# modules loaded from outside this kernel's module tree.
modtrace scan --json > "$OUT/scan-rootkit.json" 2> "$OUT/scan-rootkit.err"; echo $? > "$OUT/scan-rootkit.rc"
start pre --scan-interval 1
wait_finding syscall_hooked '"where":"sys_call_table"'
wait_finding syscall_hooked '"where":"x64_sys_call"'
wait_finding syscall_hooked '"where":"ia32_sys_call"'
wait_finding ftrace_hooked
# mt_hide_both, in no view by name since before the capture: found by its
# memory once two scans 2 s apart agree (the same scan confirms the other
# hiders); the unloads below would make that view wait.
wait_finding hidden_module '"view":"module_memory"'
step unhook-ftrace /sbin/rmmod mt_ftrace_hook
step unhook-ia32 /sbin/rmmod mt_hook_ia32
step unhook-dispatch /sbin/rmmod mt_hook_dispatch
step unhook-table /sbin/rmmod mt_hook_table
wait_finding syscall_hook_removed '"where":"sys_call_table"'
wait_finding syscall_hook_removed '"where":"x64_sys_call"'
wait_finding syscall_hook_removed '"where":"ia32_sys_call"'
stop
sh -c 'echo $PPID' > "$OUT/ppid-after.txt"

# The autoload helper (modprobe_path): one that is no module tool already in
# place when a capture starts, then another set during it, then the stock one
# put back.
MODPROBE=$(cat /proc/sys/kernel/modprobe)
echo /tmp/mt-helper > /proc/sys/kernel/modprobe
start helper --scan-interval 1
wait_finding modprobe_path_changed '"path":"/tmp/mt-helper"'
echo /dev/shm/mt-helper > /proc/sys/kernel/modprobe
wait_finding modprobe_path_changed '"path":"/dev/shm/mt-helper"'
# While it is set, an autoload (a DCCP socket as nobody): the kernel runs the
# helper as root, for each of the two names it asks under; then it is put
# back. The helper, a script, says it ran; the guest's sha256sum hashes it.
printf '#!/bin/sh\necho "$*" >> /tmp/mt-helper.ran\n' > /dev/shm/mt-helper
chmod 755 /dev/shm/mt-helper
"$TRIGGER" autoload 65534 > /dev/null
wait_finding kernel_ran_program '"request":"net-pf-2-proto-33"'
echo "$MODPROBE" > /proc/sys/kernel/modprobe
cp /tmp/mt-helper.ran "$DIR/helper.ran"
sha256sum /dev/shm/mt-helper | cut -d' ' -f1 > "$DIR/helper.sha256"
# The stock helper again, its file (kmod, behind /sbin/modprobe) then changed
# on disk: it is no longer what its package installed. Put back after, by a
# rename as dpkg does (a copy in place is read half written by a scan).
cp /bin/kmod /tmp/kmod.orig
echo >> /bin/kmod
md5sum /bin/kmod | cut -d' ' -f1 > "$DIR/kmod-changed.md5"
wait_finding modprobe_path_changed '"fileChanged":true'
cp /tmp/kmod.orig /bin/kmod.new && mv /bin/kmod.new /bin/kmod
stop
cat /proc/sys/kernel/modprobe > "$OUT/modprobe-after.txt"

# Last, as it can never be unloaded: a hook whose module then hides from the
# module list, and so from kallsyms. The capture saw it load and names it; a
# scan, which saw no load, says its code lies in memory no listed module owns
# (never the nearest symbol below it, another module's).
start hidden-hook --scan-interval 1
step hook-hidden /sbin/insmod $M/mt_hook_hidden.ko
wait_finding syscall_hooked getsid
wait_finding hidden_module mt_hook_hidden
stop
modtrace scan --json > "$OUT/scan-hidden.json" 2> "$OUT/scan-hidden.err"; echo $? > "$OUT/scan-hidden.rc"
echo "--- getppid() after the hooks: $(cat "$OUT/ppid.txt"), after their unload: $(cat "$OUT/ppid-after.txt")"
grep -E "^(mt_|dummy|8021q)" "$OUT/proc-modules.txt"
exit 0
