#!/usr/bin/env bash
# Stop the test Swift started by swift-start.sh (by PID file); --wipe also deletes its
# rings and objects. Keystone, if running, is left alone (keystone-stop.sh).
set -euo pipefail
TS_NAME=swift
# shellcheck source=tools/test-services/lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
STOP_ARG=${1:-} stop_main "$TS_ROOT/swift" proxy proxy-keystone object container account memcached
