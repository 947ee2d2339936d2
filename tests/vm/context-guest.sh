# Runs inside the VM (tests/vm/context.test.ts): module calls made from known
# places while modtrace captures, and what the shell and /proc said of each
# place before the call. Every file left in $OUT goes back to the host:
#   all/         the capture (guest-lib's start and stop): events.json,
#                events.cbor, events.txt, events.raw, modtrace.err/.rc
#   docker-only/, host-only/   captures beside it with --container ID and
#                --not-container: events.json, modtrace.err/.rc
#   chain-root/  a load through sh -c → su root → sh → modprobe, with the
#                login uid set at the top: top.pid, su.pid (the shell su ran:
#                busybox su execs it, so su and that sh are one process),
#                session.txt, ancestry.txt (the /proc walk from su's shell up:
#                "PID COMM START_TICKS EXE" per line), modprobe.rc
#   chain-nobody/  the same through su nobody, whose insmod fails: no CAP_SYS_MODULE
#   docker/, kubepods/, namespaces/  a load attempt from new pid, mount, network and user
#                namespaces inside a cgroup laid out like the runtime's:
#                outer.pid (the shell that execs unshare), cgroup.txt
#                (/proc/PID/cgroup's v2 path), userns.txt, pidns.txt, mntns.txt, netns.txt
#                (the namespaces' links as seen inside), insmod.rc
#   autoload/    mount.pid: the kernel's own modprobe, started by a kworker;
#                modprobe.path, modprobe.sha256: the file it runs
# guest-lib.sh comes first (DUMMY and the rest).
CGROUP=/sys/fs/cgroup
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> /etc/passwd
echo 'nogroup:x:65534:' >> /etc/group

# The /proc walk from pid $1 up to pid 1: pid, comm, start time, executable.
cat > /tmp/ancestry.sh <<'EOF'
p=$1
while [ "$p" -gt 0 ]; do
  set -- $(cat /proc/$p/stat)
  echo "$1 $(echo "$2" | tr -d '()') ${22} $(readlink /proc/$1/exe)"
  p=$4
done
EOF

DOCKER_ID=$(echo docker | sha256sum | cut -c1-64)
CRI_ID=$(echo containerd | sha256sum | cut -c1-64)
POD=2f4a8c1e-93b7-4d5a-b6c2-8e1f0a3d9b47
POD_SLICE=$(echo $POD | tr - _)
echo "$DOCKER_ID" > "$OUT/docker.id"
echo "$CRI_ID" > "$OUT/cri.id"
echo "$POD" > "$OUT/pod.uid"

start all -o "cbor:$OUT/all/events.cbor" -o "text:$OUT/all/events.txt" -o "raw:$OUT/all/events.raw"
# The capture's own container filters, beside it: the docker container by its short id, and the host.
start docker-only --container "$(echo $DOCKER_ID | cut -c1-12)"
start host-only --not-container

# chain USER DIR COMMAND: sh -c (login uid 1000) → su USER → sh → COMMAND.
# Each shell runs one more command after its child, so none execs it.
chain() {
  user=$1 dir=$OUT/$2; shift 2
  mkdir -p "$dir"
  chmod 777 "$dir"
  sh -c '
    dir=$1; user=$2; shift 2
    echo 1000 > /proc/self/loginuid
    echo $$ > "$dir/top.pid"
    cat /proc/self/sessionid > "$dir/session.txt"
    su "$user" -c "echo \$\$ > $dir/su.pid; sh /tmp/ancestry.sh \$\$ > $dir/ancestry.txt; $*; echo \$? > $dir/command.rc"
    echo done > "$dir/top.done"
  ' chain "$dir" "$user" "$@"
}
chain root chain-root /sbin/modprobe dummy
/sbin/rmmod dummy
chain nobody chain-nobody /sbin/insmod "$DUMMY"

# contained DIR CGROUP_PATH: a shell that joins the cgroup, then execs unshare
# into new user (root mapped), pid, mount and network namespaces, where insmod fails
# (its capabilities are its user namespace's, not the host's).
contained() {
  dir=$OUT/$1 cg=$2
  mkdir -p "$dir"
  [ -n "$cg" ] && mkdir -p "$CGROUP$cg"
  sh -c '
    dir=$1; cg=$2; dummy=$3
    [ -n "$cg" ] && echo $$ > "/sys/fs/cgroup$cg/cgroup.procs"
    echo $$ > "$dir/outer.pid"
    sed -n "s/^0:://p" /proc/$$/cgroup > "$dir/cgroup.txt"
    exec unshare -U -r -p -m -n -f sh -c "
      readlink /proc/self/ns/user > $dir/userns.txt
      readlink /proc/self/ns/pid > $dir/pidns.txt
      readlink /proc/self/ns/mnt > $dir/mntns.txt
      readlink /proc/self/ns/net > $dir/netns.txt
      /sbin/insmod $dummy
      echo \$? > $dir/insmod.rc"
  ' contained "$dir" "$cg" "$DUMMY"
}
contained docker "/system.slice/docker-$DOCKER_ID.scope"
contained kubepods "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$POD_SLICE.slice/cri-containerd-$CRI_ID.scope"
contained namespaces ""

# The kernel's own load: a kworker runs /sbin/modprobe for the mount's fs-iso9660.
mkdir -p "$OUT/autoload"
sh -c 'echo $$ > "$1"; exec mount -t iso9660 none /mnt' autoload "$OUT/autoload/mount.pid" 2>/dev/null
# The program the kernel ran for it (call_usermodehelper), by the guest's own tools.
readlink -f /sbin/modprobe > "$OUT/autoload/modprobe.path"
sha256sum "$(readlink -f /sbin/modprobe)" | cut -d' ' -f1 > "$OUT/autoload/modprobe.sha256"

for name in all docker-only host-only; do stop $name; done
exit 0
