# Sourced by the scripts that install Debian packages (build.sh,
# loader/build-deps.sh, tests/vm/prepare.sh, tests/vm/modules/build.sh).
# A fresh machine often has another apt running (unattended upgrades, a
# provisioning step): wait for its locks instead of failing at once.
APT_LOCK_WAIT_SEC=${APT_LOCK_WAIT_SEC:-600}

# apt-get update [APT OPTIONS...]. apt waits for the dpkg lock when told to
# (DPkg::Lock::Timeout) but not for the lists lock that update takes, so an
# update that found it held is tried again until the wait is over.
apt_update() {
  local waited=0 out
  while true; do
    if out=$(apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT_SEC" "$@" update 2>&1); then
      printf '%s\n' "$out" | grep -E '^(W|E):' >&2 || true
      return 0
    fi
    if ! grep -q 'Could not get lock' <<<"$out" || [ "$waited" -ge "$APT_LOCK_WAIT_SEC" ]; then
      printf '%s\n' "$out" >&2
      return 1
    fi
    [ "$waited" -eq 0 ] && printf 'apt: another apt holds the package lists; waiting up to %s s\n' "$APT_LOCK_WAIT_SEC" >&2
    sleep 5; waited=$((waited + 5))
  done
}

# apt-get install PACKAGES..., quietly, waiting for the dpkg lock.
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT_SEC" \
    install -y -qq --no-install-recommends "$@" >/dev/null
}
