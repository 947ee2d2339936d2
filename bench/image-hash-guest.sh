# Runs inside the VM (bench/image-hash.ts): the time of module loads with no
# modtrace, with modtrace --no-hash, and with modtrace hashing, in ROUNDS
# rounds whose order rotates, each load REPEAT times per round. One JSON line per timed load on stdout of
# `trigger time`, collected in $OUT/times.jsonl with the config and load.
MODS=/lib/modules/$(uname -r)
XFS=$MODS/kernel/fs/xfs/xfs.ko
T=/root/trigger

timed() { # CONFIG LOAD COMMAND...
  config=$1; what=$2; shift 2
  echo "{\"config\":\"$config\",\"load\":\"$what\",\"time\":$($T time "$@")}" >> "$OUT/times.jsonl"
}

loads() { # CONFIG: each load $REPEAT times
  for i in $(seq 1 "$REPEAT"); do
    timed "$1" 8021q-chain /sbin/modprobe 8021q
    for m in 8021q garp mrp stp llc; do /sbin/rmmod $m; done
    timed "$1" xfs /sbin/insmod "$XFS"
    /sbin/rmmod xfs
  done
}

# A directory of root's alone: modtrace refuses one everyone can write (/tmp).
mkdir -p -m 0700 /tmp/mt
with_modtrace() { # CONFIG ARGS...
  config=$1; shift
  modtrace "$@" --overwrite -o cbor:/tmp/mt/bench.cbor 2> /tmp/modtrace.err &
  MT=$!
  while ! grep -q capturing /tmp/modtrace.err; do sleep 0.1; done
  loads "$config"
  sleep 0.3
  kill -INT $MT
  wait $MT
  grep "module images" /tmp/modtrace.err
}

/sbin/modprobe libcrc32c # xfs's dependency, loaded once, outside the timings
for r in $(seq 1 "$ROUNDS"); do
  case $((r % 3)) in
    0) loads bare; with_modtrace no-hash --no-hash; with_modtrace hash ;;
    1) with_modtrace no-hash --no-hash; with_modtrace hash; loads bare ;;
    2) with_modtrace hash; loads bare; with_modtrace no-hash --no-hash ;;
  esac
done
exit 0
