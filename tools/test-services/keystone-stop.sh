#!/usr/bin/env bash
# Stop the test Keystone started by keystone-start.sh; --wipe also deletes its database
# and keys (the virtualenv stays).
set -euo pipefail
TS_NAME=keystone
# shellcheck source=tools/test-services/lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
STOP_ARG=${1:-} stop_main "$TS_ROOT/keystone" gunicorn
