#!/usr/bin/env bash
# Debian packages the tests use that a fresh machine may lack (see bindep.txt where present):
# qemu-utils (qemu-img makes the qcow2/vmdk images of the format inspection tests) and
# shellcheck (checks the devstack plugin).
set -uo pipefail
missing=()
command -v qemu-img >/dev/null || missing+=(qemu-utils)
command -v shellcheck >/dev/null || missing+=(shellcheck)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${missing[*]} from Debian..."
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } \
      >/tmp/glance-ensure-packages.log 2>&1 ||
      echo "apt-get install ${missing[*]} failed (see /tmp/glance-ensure-packages.log)"
  else
    echo "Missing ${missing[*]}: tests that need them skip"
  fi
fi
exit 0
