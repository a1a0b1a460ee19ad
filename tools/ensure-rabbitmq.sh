#!/usr/bin/env bash
# Make sure RabbitMQ answers on 127.0.0.1:5672 (user guest/guest) for the notification
# tests (glance/tests/functional/v2/test_notifications.py). Starts the Debian package's
# server when it is installed and down; where it is not installed those tests skip. Safe to
# run again.
set -u

log() { echo "ensure-rabbitmq: $*"; }

up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  log "no rabbitmq-server (Debian package rabbitmq-server): the notification tests will skip"
  exit 0
fi
if ! up; then
  log "RabbitMQ is down; starting it"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_DIST_PORT=25672
  export ERL_EPMD_ADDRESS=127.0.0.1
  # the Debian wrapper switches to the rabbitmq user itself
  rabbitmq-server -detached || true
  deadline=$((SECONDS + 90))
  until up; do
    if ((SECONDS >= deadline)); then
      log "RabbitMQ did not come up: the notification tests will fail"
      exit 0
    fi
    sleep 1
  done
fi
log "RabbitMQ ready"
exit 0
