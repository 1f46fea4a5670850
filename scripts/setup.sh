#!/usr/bin/env bash
# Create .venv and install kb with its dependencies (CPU-only torch first, so pip never
# pulls the multi-GB CUDA build).  Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
    .venv/bin/pip install -q "torch==2.13.0"
fi
if [ "${1:-}" = "--test" ]; then
    .venv/bin/pip install -q -e ".[test]"
else
    .venv/bin/pip install -q -e .
fi
