#!/usr/bin/env bash
# Make sure PostgreSQL and MariaDB answer on loopback and hold the "openstack_citest" user and
# database that oslo.db's opportunistic test fixtures look for. Safe to run again.
set -u

log() { echo "ensure-databases: $*"; }

wait_for() {  # wait_for <seconds> <command...>
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS >= deadline)) && return 1
    sleep 1
  done
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
my_up() { mysqladmin --connect-timeout=2 -h 127.0.0.1 -uroot ping >/dev/null 2>&1; }

if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_up; then
    log "PostgreSQL is down; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    wait_for 60 pg_up || log "PostgreSQL did not come up: its tests will skip"
  fi
  if pg_up; then
    psql -q -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=0 >/dev/null 2>&1 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'openstack_citest') THEN
    CREATE ROLE openstack_citest LOGIN SUPERUSER PASSWORD 'openstack_citest';
  END IF;
END $$;
SQL
    psql -q -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'openstack_citest'" \
      | grep -q 1 || psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE openstack_citest OWNER openstack_citest" >/dev/null
    log "PostgreSQL ready"
  fi
else
  log "no PostgreSQL client tools: its tests will skip"
fi

if command -v mysqladmin >/dev/null 2>&1; then
  if ! my_up; then
    log "MariaDB is down; starting it"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    wait_for 60 my_up || log "MariaDB did not come up: its tests will skip"
  fi
  if my_up; then
    mysql -h 127.0.0.1 -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'openstack_citest'@'%' IDENTIFIED BY 'openstack_citest';
CREATE USER IF NOT EXISTS 'openstack_citest'@'localhost' IDENTIFIED BY 'openstack_citest';
GRANT ALL PRIVILEGES ON *.* TO 'openstack_citest'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'openstack_citest'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS openstack_citest;
FLUSH PRIVILEGES;
SQL
    log "MariaDB ready"
  fi
else
  log "no MariaDB client tools: its tests will skip"
fi
exit 0
