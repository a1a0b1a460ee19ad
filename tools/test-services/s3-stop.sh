#!/usr/bin/env bash
# Stop the test S3 server started by s3-start.sh (by PID file); --wipe also deletes its
# buckets and objects.
set -euo pipefail
TS_NAME=s3
# shellcheck source=tools/test-services/lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
STOP_ARG=${1:-} stop_main "$TS_ROOT/s3" weed
