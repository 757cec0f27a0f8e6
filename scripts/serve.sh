#!/usr/bin/env bash
# Install Commons into ./.venv and run it on the embedded default (./instance: the content git
# repository, a SQLite database and the search index, created and seeded on first run).
# Arguments go to `commons serve` (--host, --port, --workers).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv
.venv/bin/pip install --quiet --disable-pip-version-check .
exec .venv/bin/commons serve "$@"
