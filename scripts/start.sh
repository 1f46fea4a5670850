#!/usr/bin/env bash
# Install everything and start the help center on the bundled articles at
# http://127.0.0.1:5000 (builds the index on first start; embedded defaults, no config).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kb serve "$@"
