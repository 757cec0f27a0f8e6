# Sourced by scripts/serve.sh and scripts/test.sh: make sure ./.venv exists.
#
# Debian's and Ubuntu's own python3 has no venv module until the python3-venv package is
# installed; on such a machine this installs it with apt (as root, or through sudo), so the
# README's commands work on a machine with nothing but Python, git and apt.
ensure_venv() {
  local python=${PYTHON:-python3}
  [ -x .venv/bin/python ] && return 0
  if ! "$python" -m venv .venv >/dev/null 2>&1; then
    rm -rf .venv
    if ! command -v apt-get >/dev/null; then
      echo "error: '$python -m venv' failed and there is no apt-get to install venv with" >&2
      return 1
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    local version
    version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    echo "'$python -m venv' needs Debian's venv package: installing python$version-venv" >&2
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "python$version-venv" || $sudo apt-get install -y -qq python3-venv
    "$python" -m venv .venv
  fi
}
