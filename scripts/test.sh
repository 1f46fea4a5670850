#!/usr/bin/env bash
# Install everything (Python packages with the test extras and the optional
# sentence-transformers backend on torch's CPU build, and Debian's chromium for the browser
# tests and postgresql for the database tests when running as root: scripts/setup.sh --test)
# and run the whole test suite.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-core >/dev/null
fi
bash scripts/setup.sh --test
set +e
.venv/bin/python -m pytest -p no:cacheprovider "$@"
status=$?
set -e
# pytest exits 5 when no test was collected: that is a failure for us, not a pass.
exit $status
