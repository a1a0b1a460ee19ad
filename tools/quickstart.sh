#!/usr/bin/env bash
# Start glance-api and glance-stream on this machine (README command 1): SQLite, file store,
# no Keystone ("noauth" flavor), both on loopback, state under ./.quickstart/.
#   tools/quickstart.sh          start (installs into .venv on first use)
#   tools/quickstart.sh stop     stop both, with their workers (each runs in its own process
#                                group, whose id is in .quickstart/<service>.pid)
#   tools/quickstart.sh status   say what runs, workers included
# The ticket key and the configs are written 0600 (umask 077), the logs 0640 (umask 027).
# GLANCE_API_PORT (default 9292) and GLANCE_STREAM_PORT (default 9293) change the ports.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
qs="$top/.quickstart"
api_port=${GLANCE_API_PORT:-9292}
stream_port=${GLANCE_STREAM_PORT:-9293}

# Each service is started with setsid: its process group id is the parent's pid, and its
# workers stay in that group even when the parent is gone (kill -9), so the group is what
# "running" and "stop" look at.
running() { [ -f "$1" ] && kill -0 -- "-$(cat "$1")" 2>/dev/null; }

group_pids() { ps -o pid= -g "$1" 2>/dev/null | tr -s ' \n' ' ' | sed 's/^ //;s/ $//'; }

stop() {
  local pidfile pid
  for svc in glance-api glance-stream; do
    pidfile="$qs/$svc.pid"
    if running "$pidfile"; then
      pid=$(cat "$pidfile")
      kill -TERM -- "-$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 -- "-$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || true
        echo "killed $svc (process group $pid) after 10 s"
      else
        echo "stopped $svc (process group $pid)"
      fi
    fi
    rm -f "$pidfile"
  done
}

wait_up() {  # wait_up <url> <pidfile> <log>
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    if ! running "$2"; then echo "failed to start; the end of $3:"; tail -n 20 "$3"; return 1; fi
    sleep 0.2
  done
  echo "no answer from $1 after 60 s; see $3"; return 1
}

case "${1:-start}" in
  stop) stop; exit 0 ;;
  status)
    for svc in glance-api glance-stream; do
      pidfile="$qs/$svc.pid"
      if running "$pidfile"; then
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
          echo "$svc running (pid $pid; processes $(group_pids "$pid"))"
        else
          echo "$svc parent $pid is gone but processes $(group_pids "$pid") remain:" \
               "'$0 stop' ends them"
        fi
      else echo "$svc stopped"; fi
    done
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac

if running "$qs/glance-api.pid" || running "$qs/glance-stream.pid"; then
  echo "already running: '$0 stop' first"; exit 1
fi
tools/install-venv.sh --clients
umask 077  # the ticket key, configs and database: the owner's only
mkdir -p "$qs/images" "$qs/cache" "$qs/state"
key_file="$qs/ticket.key"
[ -s "$key_file" ] || .venv/bin/python -c "import secrets; print(secrets.token_hex(32))" > "$key_file"

write_conf() {  # write_conf <file> <port>
  cat > "$1" <<CONF
# Written by tools/quickstart.sh: the embedded defaults, for one machine.
[DEFAULT]
state_path = $qs/state
bind_host = 127.0.0.1
bind_port = $2
workers = 2
log_file = $qs/$(basename "$1" .conf).log
enabled_backends = local:file
public_endpoint = http://127.0.0.1:$api_port

[paste_deploy]
flavor = noauth
config_file = $top/etc/$(basename "$1" .conf)-paste.ini

[database]
connection = sqlite:///$qs/glance.sqlite

[glance_store]
default_backend = local

[local]
filesystem_store_datadir = $qs/images

[os_glance_staging_store]
filesystem_store_datadir = $qs/staging

[os_glance_tasks_store]
filesystem_store_datadir = $qs/tasks

[stream]
endpoints = http://127.0.0.1:$stream_port
ticket_key = $(cat "$key_file")

[cache]
directory = $qs/cache

[direct_link]
# Clients on this machine share the file store's filesystem: they may get file:// links.
file_clients = 127.0.0.1/32, ::1/128
CONF
}
write_conf "$qs/glance-api.conf" "$api_port"
write_conf "$qs/glance-stream.conf" "$stream_port"

.venv/bin/glance-manage --config-file "$qs/glance-api.conf" db sync >/dev/null 2>"$qs/db-sync.err" \
  || { cat "$qs/db-sync.err"; exit 1; }

chmod 600 "$key_file" "$qs/glance-api.conf" "$qs/glance-stream.conf"  # from older runs
chmod 640 "$qs"/*.log 2>/dev/null || true
umask 027  # the servers' logs: owner and group may read, nobody else
for svc in glance-stream glance-api; do
  # A fresh .out per start (the previous one is kept as .out.1): on failure the tail shown
  # below is this start's, not an older run's.
  [ -f "$qs/$svc.out" ] && mv "$qs/$svc.out" "$qs/$svc.out.1"
  setsid .venv/bin/$svc --config-file "$qs/$svc.conf" >"$qs/$svc.out" 2>&1 < /dev/null &
  echo $! > "$qs/$svc.pid"
done
wait_up "http://127.0.0.1:$stream_port/healthcheck" "$qs/glance-stream.pid" "$qs/glance-stream.out" \
  || { stop; exit 1; }
wait_up "http://127.0.0.1:$api_port/versions" "$qs/glance-api.pid" "$qs/glance-api.out" \
  || { stop; exit 1; }

cat <<MSG
glance-api     http://127.0.0.1:$api_port     (pid $(cat "$qs/glance-api.pid"), log $qs/glance-api.log)
glance-stream  http://127.0.0.1:$stream_port     (pid $(cat "$qs/glance-stream.pid"), log $qs/glance-stream.log)

No Keystone: every request runs as project "standalone" with roles admin,member,reader.
The clients are in .venv/bin. openstack (keystoneauth's "none" auth type):

  export OS_AUTH_TYPE=none OS_ENDPOINT=http://127.0.0.1:$api_port
  .venv/bin/openstack image create --disk-format raw --container-format bare --file /etc/hostname demo
  .venv/bin/openstack image list
  .venv/bin/openstack image save --file /tmp/demo.raw demo

glance (it has no "none" auth type: give it the endpoint and any token instead):

  export OS_IMAGE_URL=http://127.0.0.1:$api_port OS_AUTH_TOKEN=unused
  .venv/bin/glance image-list

A direct link (file:// for this machine; see doc/source/admin/direct-links.rst):

  curl -s http://127.0.0.1:$api_port/v2/images/\$(.venv/bin/openstack image show -f value -c id demo)/direct-link

Stop both with: $0 stop
MSG
