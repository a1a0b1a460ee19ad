#!/usr/bin/env bash
# Start a one-node, one-replica Swift (Debian's swift packages) on 127.0.0.1 for the
# functional tests, in the spirit of upstream's "Swift All In One". Idempotent: servers
# already up are left alone and only the env file is rewritten.
#
#   tools/test-services/swift-start.sh
#   source "${GLANCE_TEST_SERVICES_DIR:-/tmp/glance-test-services}/swift/env"
#   tools/test-services/swift-stop.sh [--wipe]
#
# Two proxies share the account, container and object servers:
#   * SWIFT_PROXY_PORT [8180]: tempauth (user test:tester / testing is admin of AUTH_test,
#     test:tester3 / testing3 is not), tempurl, and s3api (access key test:tester, secret
#     testing, region us-east-1, path-style). The Temp-URL key SWIFT_TEMPURL_KEY is set on
#     AUTH_test.
#   * SWIFT_KS_PROXY_PORT [8181], unless SWIFT_KEYSTONE=0: Keystone auth (authtoken +
#     keystoneauth) and tempurl, against the test Keystone (keystone-start.sh, started
#     here if needed). Accounts are AUTH_<project id>; the "glance" user
#     (SWIFT_GLANCE_PASSWORD) is admin of project "service", whose account holds
#     single-tenant images; the object-store endpoint points at this proxy.
#
# Object data lives in files with user xattrs: the state directory must be on a filesystem
# that has them (ext4 /tmp, tmpfs /dev/shm do; set GLANCE_TEST_SERVICES_DIR otherwise).
# Environment: SWIFT_OBJECT_PORT/SWIFT_CONTAINER_PORT/SWIFT_ACCOUNT_PORT [6210/6211/6212],
#   SWIFT_MEMCACHE_PORT [11232], SWIFT_TEMPURL_KEY [swift-test-tempurl-key],
#   SWIFT_SERVICE_PASSWORD [swift-service-pw], SWIFT_GLANCE_PASSWORD [glancepw],
#   SWIFT_NO_INSTALL=1 (never apt-get: fail with the package list instead).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TS_NAME=swift
# shellcheck source=tools/test-services/lib.sh
. "$here/lib.sh"

state=$TS_ROOT/swift
etc=$state/etc run=$state/run logs=$state/log devices=$state/devices
proxy_port=${SWIFT_PROXY_PORT:-8180}
ks_proxy_port=${SWIFT_KS_PROXY_PORT:-8181}
object_port=${SWIFT_OBJECT_PORT:-6210}
container_port=${SWIFT_CONTAINER_PORT:-6211}
account_port=${SWIFT_ACCOUNT_PORT:-6212}
memcache_port=${SWIFT_MEMCACHE_PORT:-11232}
tempurl_key=${SWIFT_TEMPURL_KEY:-swift-test-tempurl-key}
service_pw=${SWIFT_SERVICE_PASSWORD:-swift-service-pw}
glance_pw=${SWIFT_GLANCE_PASSWORD:-glancepw}
with_keystone=${SWIFT_KEYSTONE:-1}
user=$(id -un)

# Keystone first, outside our lock (it takes its own).
if [[ $with_keystone == 1 ]]; then
  "$here/keystone-start.sh"
  # shellcheck source=/dev/null
  ks_env=$(. "$TS_ROOT/keystone/env" && echo "$OS_AUTH_URL $KEYSTONE_VENV")
  ks_url=${ks_env% *} ks_venv=${ks_env#* }
fi
take_lock "$state"

# ------------------------------------------------------------------ packages
missing=()
for bin in swift-proxy-server swift-account-server swift-container-server \
           swift-object-server swift-ring-builder memcached; do
  command -v "$bin" >/dev/null || missing+=("$bin")
done
if [[ $with_keystone == 1 ]] && ! /usr/bin/python3 -c 'import keystonemiddleware' 2>/dev/null; then
  missing+=(keystonemiddleware)
fi
if ((${#missing[@]})); then
  pkgs=(swift swift-proxy swift-account swift-container swift-object python3-swiftclient
        python3-keystonemiddleware memcached)
  [[ ${SWIFT_NO_INSTALL:-0} == 1 ]] && die "missing ${missing[*]}: apt-get install ${pkgs[*]}"
  say "installing ${pkgs[*]} (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${pkgs[@]}" >"$TS_ROOT/swift-apt.log" 2>&1 \
    || { apt-get update -q && apt-get install -y -q --no-install-recommends "${pkgs[@]}"; } \
       >>"$TS_ROOT/swift-apt.log" 2>&1 \
    || { tail -n 20 "$TS_ROOT/swift-apt.log" >&2; die "apt-get install failed"; }
fi

mkdir -p "$etc" "$run" "$logs" "$devices/disk1"
probe=$devices/disk1/.xattr-probe
: >"$probe"
if ! python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.probe", b"1")' "$probe" 2>/dev/null; then
  die "$devices has no user xattrs: set GLANCE_TEST_SERVICES_DIR to a directory on ext4 or tmpfs"
fi
rm -f "$probe"

# Swift 2.30 reads the hash path prefix/suffix from /etc/swift/swift.conf whatever
# swift_dir says; Debian's package ships one. Write one only where there is none.
if ! grep -qs '^swift_hash_path_suffix' /etc/swift/swift.conf; then
  mkdir -p /etc/swift
  printf '[swift-hash]\nswift_hash_path_suffix = glance-test\n\n[storage-policy:0]\nname = gold\ndefault = yes\n' \
    >/etc/swift/swift.conf
fi
cp /etc/swift/swift.conf "$etc/swift.conf"

# ------------------------------------------------------------------ configuration
storage_conf() {  # storage_conf <account|container|object> <port>
  cat <<CONF
[DEFAULT]
bind_ip = $TS_HOST
bind_port = $2
workers = 1
user = $user
swift_dir = $etc
devices = $devices
mount_check = false
log_name = $1-server

[pipeline:main]
pipeline = healthcheck $1-server

[app:$1-server]
use = egg:swift#$1

[filter:healthcheck]
use = egg:swift#healthcheck
CONF
}
storage_conf account "$account_port" >"$etc/account-server.conf"
storage_conf container "$container_port" >"$etc/container-server.conf"
storage_conf object "$object_port" >"$etc/object-server.conf"

proxy_conf() {  # proxy_conf <port> <auth filters> : the part both proxies share
  cat <<CONF
[DEFAULT]
bind_ip = $TS_HOST
bind_port = $1
workers = 1
user = $user
swift_dir = $etc
log_name = proxy-server

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy_logging cache listing_formats tempurl $2 copy slo dlo proxy_logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:cache]
use = egg:swift#memcache
memcache_servers = $TS_HOST:$memcache_port

[filter:tempurl]
use = egg:swift#tempurl

CONF
  local f
  for f in catch_errors gatekeeper healthcheck proxy_logging listing_formats copy slo dlo; do
    printf "[filter:%s]\nuse = egg:swift#%s\n\n" "$f" "$f"
  done
}
{
  proxy_conf "$proxy_port" "s3api tempauth"
  cat <<CONF
[filter:s3api]
use = egg:swift#s3api
location = us-east-1

# user_<account>_<user> = <key> [groups]: the account is AUTH_<account>.
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
user_test_tester3 = testing3
CONF
} >"$etc/proxy-server.conf"
if [[ $with_keystone == 1 ]]; then
  {
    proxy_conf "$ks_proxy_port" "authtoken keystoneauth"
    cat <<CONF
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = $ks_url
auth_url = $ks_url
auth_type = password
username = swift
password = $service_pw
project_name = service
user_domain_id = default
project_domain_id = default
delay_auth_decision = true
memcached_servers = $TS_HOST:$memcache_port

[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
CONF
  } >"$etc/proxy-server-keystone.conf"
fi

# Rings: one device per ring, 2^8 partitions, one replica. Rebuilt only when a port changes.
ring_id="$account_port $container_port $object_port"
if [[ $(cat "$etc/rings.id" 2>/dev/null) != "$ring_id" ]]; then
  for ring in account:$account_port container:$container_port object:$object_port; do
    name=${ring%:*}
    rm -f "$etc/$name.builder" "$etc/$name.ring.gz"
    swift-ring-builder "$etc/$name.builder" create 8 1 1 >/dev/null
    swift-ring-builder "$etc/$name.builder" add "r1z1-$TS_HOST:${ring#*:}/disk1" 100 >/dev/null
    swift-ring-builder "$etc/$name.builder" rebalance >/dev/null || true  # 1: a warning
    [[ -s $etc/$name.ring.gz ]] || die "could not build the $name ring"
  done
  echo "$ring_id" >"$etc/rings.id"
fi

# Seed Keystone once per Keystone database and settings (it costs seconds of bcrypt).
if [[ $with_keystone == 1 ]]; then
  seed_id="$(stat -c %Y "$TS_ROOT/keystone/bootstrapped") $ks_proxy_port $service_pw $glance_pw"
  if [[ $(cat "$state/keystone-seed.id" 2>/dev/null) != "$seed_id" ]]; then
    "$ks_venv/bin/python" "$here/keystone_seed.py" "$TS_ROOT/keystone/env" swift \
      "http://$TS_HOST:$ks_proxy_port" "$service_pw" "$glance_pw" >"$logs/keystone-seed.log"
    echo "$seed_id" >"$state/keystone-seed.id"
  fi
fi

# ------------------------------------------------------------------ servers
start_server() {  # start_server <name> <port> <command...>
  local name=$1 port=$2; shift 2
  pid_alive "$run/$name.pid" && return 0
  port_in_use "$port" && die "127.0.0.1:$port ($name) is taken by another program"
  spawn "$run/$name.pid" "$logs/$name.log" "$@"
}
healthy() { curl -fsS -m 2 -o /dev/null "http://$TS_HOST:$1/healthcheck"; }
memcached_up() { python3 -c "import socket; socket.create_connection(('$TS_HOST', $memcache_port), 1)"; }

start_server memcached "$memcache_port" memcached -l "$TS_HOST" -p "$memcache_port" -U 0 -m 64 -u "$user"
for name in account container object; do
  start_server "$name" "$(sed -n 's/^bind_port = //p' "$etc/$name-server.conf")" \
    "swift-$name-server" "$etc/$name-server.conf" -v
done
start_server proxy "$proxy_port" swift-proxy-server "$etc/proxy-server.conf" -v
if [[ $with_keystone == 1 ]]; then
  start_server proxy-keystone "$ks_proxy_port" swift-proxy-server "$etc/proxy-server-keystone.conf" -v
fi
wait_for 20 "$run/memcached.pid" "$logs/memcached.log" memcached_up
wait_for 60 "$run/account.pid" "$logs/account.log" healthy "$account_port"
wait_for 60 "$run/container.pid" "$logs/container.log" healthy "$container_port"
wait_for 60 "$run/object.pid" "$logs/object.log" healthy "$object_port"
wait_for 60 "$run/proxy.pid" "$logs/proxy.log" healthy "$proxy_port"
if [[ $with_keystone == 1 ]]; then
  wait_for 60 "$run/proxy-keystone.pid" "$logs/proxy-keystone.log" healthy "$ks_proxy_port"
fi

# The Temp-URL key of AUTH_test, set through tempauth.
token=$(curl -fsS -m 10 -o /dev/null -D - -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' \
        "http://$TS_HOST:$proxy_port/auth/v1.0" | tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')
[[ -n $token ]] || die "tempauth gave no token; see $logs/proxy.log"
curl -fsS -m 10 -o /dev/null -X POST -H "X-Auth-Token: $token" \
  -H "X-Account-Meta-Temp-URL-Key: $tempurl_key" "http://$TS_HOST:$proxy_port/v1/AUTH_test" \
  || die "could not set the Temp-URL key on AUTH_test"

vars=(ST_AUTH="http://$TS_HOST:$proxy_port/auth/v1.0" ST_USER=test:tester ST_KEY=testing
      SWIFT_STORAGE_URL="http://$TS_HOST:$proxy_port/v1/AUTH_test"
      SWIFT_TEMPURL_KEY="$tempurl_key"
      SWIFT_S3_ENDPOINT="http://$TS_HOST:$proxy_port" SWIFT_S3_ACCESS_KEY=test:tester
      SWIFT_S3_SECRET_KEY=testing)
if [[ $with_keystone == 1 ]]; then
  vars+=(SWIFT_KS_PROXY_URL="http://$TS_HOST:$ks_proxy_port" SWIFT_KEYSTONE_URL="$ks_url"
         SWIFT_GLANCE_USER=glance SWIFT_GLANCE_PASSWORD="$glance_pw")
fi
write_env "$state/env" "${vars[@]}"
say "up: proxy http://$TS_HOST:$proxy_port$([[ $with_keystone == 1 ]] && echo ", Keystone proxy http://$TS_HOST:$ks_proxy_port") (source $state/env)"
