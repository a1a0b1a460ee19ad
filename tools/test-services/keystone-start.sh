#!/usr/bin/env bash
# Start a Keystone (identity v3) for the functional tests: PyPI keystone in a virtualenv of
# its own, SQLite, fernet tokens, served by gunicorn on 127.0.0.1. Idempotent: when it is
# already up this only rewrites the env file.
#
#   tools/test-services/keystone-start.sh
#   source "${GLANCE_TEST_SERVICES_DIR:-/tmp/glance-test-services}/keystone/env"
#   tools/test-services/keystone-stop.sh [--wipe]
#
# The env file holds OS_AUTH_URL and the bootstrap admin's credentials (OS_USERNAME ...),
# so `openstack token issue` works after sourcing it.  Besides the admin, it makes sure the
# "service" project and the member, reader and service roles exist (devstack's layout).
#
# Environment: GLANCE_TEST_SERVICES_DIR (root of all state) [/tmp/glance-test-services],
#   KEYSTONE_PORT [5150], KEYSTONE_VERSION (PyPI) [30.0.0], KEYSTONE_WORKERS (gunicorn) [2],
#   KEYSTONE_ADMIN_PASSWORD [keystone-admin-pw].
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TS_NAME=keystone
# shellcheck source=tools/test-services/lib.sh
. "$here/lib.sh"

state=$TS_ROOT/keystone
venv=$TS_ROOT/venv-keystone
port=${KEYSTONE_PORT:-5150}
version=${KEYSTONE_VERSION:-30.0.0}
admin_pw=${KEYSTONE_ADMIN_PASSWORD:-keystone-admin-pw}
url=http://$TS_HOST:$port/v3
pidfile=$state/run/gunicorn.pid
take_lock "$state"
mkdir -p "$state/run" "$state/log"

venv_with "$venv" "import gunicorn, importlib.metadata as m; assert m.version('keystone') == '$version'" \
  "keystone==$version" gunicorn

cat >"$state/keystone.conf" <<CONF
[DEFAULT]
log_file = $state/log/keystone.log
[database]
connection = sqlite:///$state/keystone.sqlite
[identity]
# The fewest bcrypt rounds Keystone allows: the default (12) makes every password login
# cost ~0.3 s of CPU, seconds on a busy machine, longer than short-lived test links.
password_hash_rounds = 4
[token]
provider = fernet
# Long enough for the longest functional test class; the tests fetch fresh tokens anyway.
expiration = 14400
[fernet_tokens]
key_repository = $state/fernet-keys
[fernet_receipts]
key_repository = $state/fernet-keys
[credential]
key_repository = $state/credential-keys
[cache]
# In-process caching of token validation, roles and catalog: Keystone answers several
# times faster, and every test's login waits on it.
enabled = true
backend = dogpile.cache.memory
CONF
# keystone.wsgi.api parses sys.argv with oslo.config when imported: give it no arguments
# of gunicorn's to choke on.
cat >"$state/keystone_app.py" <<'PY'
import sys
sys.argv[1:] = []
from keystone.wsgi.api import application  # noqa: E402,F401
PY

manage=("$venv/bin/keystone-manage" --config-file "$state/keystone.conf")
if [[ $(cat "$state/bootstrapped" 2>/dev/null) != "$url" ]]; then
  say "creating the database, keys and admin (once)"
  {
    "${manage[@]}" db_sync
    "${manage[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
    "${manage[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
    "${manage[@]}" bootstrap --bootstrap-password "$admin_pw" \
      --bootstrap-admin-url "$url" --bootstrap-internal-url "$url" \
      --bootstrap-public-url "$url" --bootstrap-region-id RegionOne
  } >"$state/log/bootstrap.log" 2>&1 || { tail -n 20 "$state/log/bootstrap.log" >&2; die "bootstrap failed"; }
  echo "$url" >"$state/bootstrapped"
  rm -f "$state/seeded"
fi

if ! pid_alive "$pidfile"; then
  port_in_use "$port" && die "127.0.0.1:$port is taken by another program; set KEYSTONE_PORT"
  OS_KEYSTONE_CONFIG_FILES=$state/keystone.conf spawn "$pidfile" "$state/log/gunicorn.log" \
    "$venv/bin/gunicorn" --chdir "$state" --bind "$TS_HOST:$port" \
    --workers "${KEYSTONE_WORKERS:-2}" --timeout 120 \
    keystone_app:application
fi
wait_for 90 "$pidfile" "$state/log/gunicorn.log" curl -fsS -m 2 -o /dev/null "$url"

write_env "$state/env" OS_AUTH_URL="$url" OS_IDENTITY_API_VERSION=3 OS_AUTH_TYPE=password \
  OS_USERNAME=admin OS_PASSWORD="$admin_pw" OS_PROJECT_NAME=admin \
  OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default \
  KEYSTONE_VENV="$venv"
if [[ ! -f $state/seeded ]]; then
  "$venv/bin/python" "$here/keystone_seed.py" "$state/env" base >/dev/null
  touch "$state/seeded"
fi
say "up: $url (source $state/env)"
