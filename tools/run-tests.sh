#!/usr/bin/env bash
# Run the whole test suite (README command 2). Extra arguments are a stestr filter, e.g.
#   tools/run-tests.sh glance.tests.unit.db
# Ends with one line "N passed, N failed, N skipped" from stestr's results.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/install-venv.sh --test || exit 1
tools/ensure-databases.sh
tools/ensure-rabbitmq.sh
tools/ensure-packages.sh
rm -f .stestr/failing 2>/dev/null
.venv/bin/python -m stestr run --concurrency "${GLANCE_TEST_CONCURRENCY:-2}" "$@"
rc=$?
.venv/bin/python - <<'PY'
import subprocess, sys
out = subprocess.run([sys.executable.replace('python', 'python'), '-m', 'stestr', 'last', '--subunit'],
                     capture_output=True).stdout
import subunit, testtools
result = testtools.StreamSummary()
case = subunit.ByteStreamToStreamResult(__import__('io').BytesIO(out), non_subunit_name='stdout')
result.startTestRun(); case.run(result); result.stopTestRun()
passed = result.testsRun - len(result.errors) - len(result.failures) - len(result.skipped) \
    - len(result.expectedFailures) - len(result.unexpectedSuccesses)
failed = len(result.errors) + len(result.failures) + len(result.unexpectedSuccesses)
print('%d passed, %d failed, %d skipped' % (passed, failed, len(result.skipped)))
PY
exit $rc
