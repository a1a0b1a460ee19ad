#!/usr/bin/env bash
# Create .venv if missing and install the project (and, with --test, the test requirements)
# into it. Re-installs only when requirements.txt, test-requirements.txt or setup.cfg change.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
files="requirements.txt setup.cfg"
[ "${1:-}" = "--test" ] && files="$files test-requirements.txt"
stamp=".venv/.installed-$(cat $files | sha1sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "Installing into .venv (this takes a minute the first time)..."
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  reqs="-r requirements.txt"
  [ "${1:-}" = "--test" ] && reqs="$reqs -r test-requirements.txt"
  .venv/bin/python -m pip install -q $reqs -e . 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import glance.cmd.api" # fail here, not later, if the install broke
  touch "$stamp"
fi
