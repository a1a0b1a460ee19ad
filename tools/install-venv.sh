#!/usr/bin/env bash
# Create .venv if missing and install the project into it; with --test also the test
# requirements, with --clients also the openstack and glance command-line clients.
# Re-installs only when requirements.txt, test-requirements.txt, constraints.txt (the pinned
# versions, shared with tox) or setup.cfg change.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
base_stamp=".venv/.installed-$(cat requirements.txt setup.cfg | sha1sum | cut -c1-16)"
test_stamp=".venv/.installed-test-$(cat requirements.txt setup.cfg test-requirements.txt constraints.txt | sha1sum | cut -c1-16)"
clients_stamp=".venv/.installed-clients-$(cat requirements.txt setup.cfg | sha1sum | cut -c1-16)"
stamp=$base_stamp
if [ "${1:-}" = "--test" ]; then stamp=$test_stamp; fi
if [ "${1:-}" = "--clients" ]; then stamp=$clients_stamp; fi
# the test requirements include the clients
if [ "$stamp" = "$clients_stamp" ] && [ -f "$test_stamp" ]; then stamp=$test_stamp; fi
if [ ! -f "$stamp" ] && ! { [ "$stamp" = "$base_stamp" ] && [ -f "$test_stamp" ]; }; then
  echo "Installing into .venv (this takes a minute the first time)..."
  log=.venv/install.log
  reqs="-c constraints.txt -r requirements.txt"
  if [ "${1:-}" = "--test" ]; then reqs="$reqs -r test-requirements.txt"; fi
  if [ "${1:-}" = "--clients" ]; then reqs="$reqs python-openstackclient python-glanceclient"; fi
  if ! { .venv/bin/python -m pip install --upgrade pip &&
         .venv/bin/python -m pip install $reqs -e .; } >"$log" 2>&1; then
    echo "pip install failed; the end of $log:"; tail -n 30 "$log"; exit 1
  fi
  # fail here, not later, if the install is broken
  .venv/bin/python -c "import glance.cmd.api, glance.cmd.stream, glance.cmd.manage"
  touch "$stamp"
  # (if, not &&: a false test as the script's last command would be its exit status)
  if [ "$stamp" = "$test_stamp" ]; then touch "$base_stamp" "$clients_stamp"; fi
  if [ "$stamp" = "$clients_stamp" ]; then touch "$base_stamp"; fi
fi
