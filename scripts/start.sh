#!/usr/bin/env bash
# Install kb (the default install: no torch) and start the help center on the bundled
# articles at http://127.0.0.1:5000 (builds the index on first start; embedded defaults, no
# config).  Arguments go to `kb serve` (--port 8080, --access-log).  Ctrl+C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kb serve "$@"
