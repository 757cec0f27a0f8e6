#!/usr/bin/env bash
# Installs what bench/run.py needs from Debian: wrk (the HTTP load generator), with apt when it
# is missing (as root, or through sudo). Called by bench/run.py itself when `wrk` is not on the
# PATH, so `bash bench/setup.sh` beforehand is optional.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../scripts/apt.sh
source "$here/../scripts/apt.sh"
if ! command -v wrk >/dev/null; then
  apt_install "the benchmark needs wrk" wrk
fi
wrk --version 2>&1 | head -1 || true
