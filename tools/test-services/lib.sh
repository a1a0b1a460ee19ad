# shellcheck shell=bash
# Helpers shared by the test-service scripts in this directory (sourced, not run).
#
# Every service keeps its state (configuration, data, logs, PID files, the env file tests
# read) in one directory under $GLANCE_TEST_SERVICES_DIR, binds 127.0.0.1 only, and is
# started under setsid so that stopping it signals its own process group and nothing else.

# shellcheck disable=SC2034  # both are read by the scripts that source this file
TS_ROOT=${GLANCE_TEST_SERVICES_DIR:-/tmp/glance-test-services}
# shellcheck disable=SC2034
TS_HOST=127.0.0.1

say() { echo "${TS_NAME:-test-services}: $*" >&2; }
die() { say "$*"; exit 1; }

# Serialise start/stop of one service: concurrent test processes call the same script.
take_lock() {  # take_lock <state dir>
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock -w 900 9 || die "another start or stop of $TS_NAME holds $1/.lock"
}

pid_alive() {  # pid_alive <pid file>
  [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

port_in_use() {  # port_in_use <port>: true if something listens on 127.0.0.1:<port>
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT port is free
try:
    s.bind(('127.0.0.1', int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}

# spawn <pid file> <log file> <command...>: run detached in a new session. The child
# records its own PID after setsid (setsid forks when the caller leads a process group, so
# $! would name the wrong process).
spawn() {
  local pidfile=$1 logfile=$2; shift 2
  rm -f "$pidfile"
  # 9>&-: the server must not inherit (and hold for ever) the start lock.
  # shellcheck disable=SC2016  # $$ and $@ are the child shell's
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >"$logfile" 2>&1 </dev/null 9>&- &
  local _
  for _ in $(seq 1 100); do [[ -s $pidfile ]] && return 0; sleep 0.05; done
  die "$* did not start (no $pidfile)"
}

# wait_for <seconds> <pid file> <log file> <command...>: poll the command until it
# succeeds; fail early, with the log's tail, if the process died.
wait_for() {
  local seconds=$1 pidfile=$2 logfile=$3; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$pidfile"; then
      say "$(basename "$pidfile" .pid) exited; the end of $logfile:"
      tail -n 20 "$logfile" >&2
      exit 1
    fi
    ((SECONDS < deadline)) || { say "no answer after ${seconds}s; see $logfile"; exit 1; }
    sleep 0.2
  done
}

# stop_pid <pid file>: SIGTERM the process group the file names, SIGKILL after 10 s.
stop_pid() {
  local pidfile=$1 pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local _
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  say "stopped $(basename "$pidfile" .pid) (pid $pid)"
}

# write_env <file> NAME=value...: the env file tests and shells source, written atomically
# so that a reader never sees half of it.
write_env() {
  local file=$1 pair; shift
  {
    echo "# Written by tools/test-services ($(date -u +%FT%TZ)); source it."
    for pair in "$@"; do printf 'export %s=%q\n' "${pair%%=*}" "${pair#*=}"; done
  } >"$file.tmp"
  mv "$file.tmp" "$file"
}

# venv_with <venv dir> <import check> <pip requirement...>: a private virtualenv holding
# the requirements, created or completed only when the import check fails.
venv_with() {
  local venv=$1 check=$2; shift 2
  if ! "$venv/bin/python" -c "$check" 2>/dev/null; then
    say "installing $* into $venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install -q "$@" >"$venv.install.log" 2>&1 \
      || { tail -n 20 "$venv.install.log" >&2; die "pip install $* failed"; }
  fi
}

# stop_main <state dir> <pid names...>: the body of every stop script (--wipe deletes state).
stop_main() {
  local state=$1 wipe=0 name; shift
  [[ ${STOP_ARG:-} == --wipe ]] && wipe=1
  [[ -d $state ]] || return 0
  take_lock "$state"
  for name in "$@"; do stop_pid "$state/run/$name.pid"; done
  rm -f "$state/env"
  if ((wipe)); then
    find "$state" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
    say "wiped $state"
  fi
}
