#!/usr/bin/env bash
# Install everything (Python packages with the test extras and the optional
# sentence-transformers backend on torch's CPU build; as root, Debian's chromium, postgresql,
# nginx and redis-server, which the tests run themselves: scripts/setup.sh --test) and run the
# whole test suite.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
set +e
.venv/bin/python -m pytest -p no:cacheprovider "$@"
status=$?
set -e
# pytest exits 5 when no test was collected: that is a failure for us, not a pass.
exit $status
