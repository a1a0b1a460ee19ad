#!/usr/bin/env bash
# Benchmark this project against upstream Glance (latest release from PyPI, under uWSGI) and
# nginx serving the same image file, on loopback, in one run. Prints a table; writes JSON.
#
#   tools/bench/run.sh [bench.py options]     e.g. --image-size 268435456 for a quick look
#
# BENCH_DIR (default ~/.cache/glance-bench) holds upstream's virtualenv, the image files and
# the run's servers; BENCH_OUTPUT (default $BENCH_DIR/report.json) the JSON report.
# BENCH_BASELINE=<git revision> also measures upload and cold download of that revision
# ("before"), checked out in $BENCH_DIR/baseline, e.g. the commit before piece hashes.
set -euo pipefail
cd "$(dirname "$0")/../.."
BENCH_DIR=${BENCH_DIR:-$HOME/.cache/glance-bench}
BENCH_OUTPUT=${BENCH_OUTPUT:-$BENCH_DIR/report.json}
UPSTREAM_VENV=$BENCH_DIR/upstream-venv
mkdir -p "$BENCH_DIR"

bash tools/install-venv.sh

if [ ! -x "$UPSTREAM_VENV/bin/uwsgi" ] || ! "$UPSTREAM_VENV/bin/python" -c "import glance" 2>/dev/null; then
  echo "Installing upstream Glance (latest release) into $UPSTREAM_VENV..."
  python3 -m venv "$UPSTREAM_VENV"
  "$UPSTREAM_VENV/bin/pip" install -q --upgrade pip >"$BENCH_DIR/upstream-install.log" 2>&1
  if ! "$UPSTREAM_VENV/bin/pip" install glance pyuwsgi >>"$BENCH_DIR/upstream-install.log" 2>&1; then
    echo "pip install glance failed; the end of $BENCH_DIR/upstream-install.log:"
    tail -n 30 "$BENCH_DIR/upstream-install.log"; exit 1
  fi
fi

if ! command -v nginx >/dev/null; then
  echo "Installing nginx from Debian..."
  # do not let the package start a server on port 80
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx; } >"$BENCH_DIR/nginx-install.log" 2>&1
fi

# Direct links on S3 too, when the workplace's S3 server (SeaweedFS) can run here.
services=${GLANCE_SHARED_SERVICES:-$(cd .. && pwd)/shared/services}
[ -d "$services" ] || services=/work/shared/services
s3_args=()
if [ -f "$services/s3-start.sh" ]; then
  if bash "$services/s3-start.sh" >"$BENCH_DIR/s3-start.log" 2>&1; then
    s3_args=(--s3-env "${S3_DIR:-/tmp/seaweedfs-s3}/env")
  else
    echo "S3 server did not start (see $BENCH_DIR/s3-start.log): no S3 direct-link figure"
  fi
fi

baseline_args=()
if [ -n "${BENCH_BASELINE:-}" ]; then
  rm -rf "$BENCH_DIR/baseline"
  git worktree prune
  git worktree add -q --detach "$BENCH_DIR/baseline" "$BENCH_BASELINE"
  trap 'git worktree remove --force "$BENCH_DIR/baseline" 2>/dev/null; rm -f /usr/sbin/policy-rc.d' EXIT
  baseline_args=(--baseline-root "$BENCH_DIR/baseline")
fi

.venv/bin/python tools/bench/bench.py --upstream-venv "$UPSTREAM_VENV" \
  --work "$BENCH_DIR/run" --output "$BENCH_OUTPUT" "${s3_args[@]}" "${baseline_args[@]}" "$@"
