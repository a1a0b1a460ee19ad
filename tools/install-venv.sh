#!/usr/bin/env bash
# Create .venv if missing and install the project (and, with --test, the test requirements)
# into it. Re-installs only when requirements.txt, test-requirements.txt or setup.cfg change.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
base_stamp=".venv/.installed-$(cat requirements.txt setup.cfg | sha1sum | cut -c1-16)"
test_stamp=".venv/.installed-test-$(cat requirements.txt setup.cfg test-requirements.txt | sha1sum | cut -c1-16)"
stamp=$base_stamp
[ "${1:-}" = "--test" ] && stamp=$test_stamp
if [ ! -f "$stamp" ] && ! { [ "$stamp" = "$base_stamp" ] && [ -f "$test_stamp" ]; }; then
  echo "Installing into .venv (this takes a minute the first time)..."
  log=.venv/install.log
  reqs="-r requirements.txt"
  [ "${1:-}" = "--test" ] && reqs="$reqs -r test-requirements.txt"
  if ! { .venv/bin/python -m pip install --upgrade pip &&
         .venv/bin/python -m pip install $reqs -e .; } >"$log" 2>&1; then
    echo "pip install failed; the end of $log:"; tail -n 30 "$log"; exit 1
  fi
  # fail here, not later, if the install is broken
  .venv/bin/python -c "import glance.cmd.api, glance.cmd.stream, glance.cmd.manage"
  touch "$stamp"
  [ "$stamp" = "$test_stamp" ] && touch "$base_stamp"
fi
