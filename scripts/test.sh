#!/usr/bin/env bash
# Set up everything the test suite needs, then run it. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
. scripts/chromium.sh
. scripts/postgres.sh
. scripts/redis.sh
ensure_venv
ensure_chromium
ensure_postgres
ensure_redis
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
exec .venv/bin/python -m pytest "$@"
