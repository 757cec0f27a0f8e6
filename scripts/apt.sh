# Sourced by the scripts that need a Debian package for the tests (chromium.sh, postgres.sh).
#
#   apt_install "why it is needed" PACKAGE...
#
# installs the packages with apt, as root or through sudo, without recommends; apt's chatter
# goes to a log that is shown only if it fails.
apt_install() {
  local why=$1
  shift
  if ! command -v apt-get >/dev/null; then
    echo "error: $why, and there is no apt-get to install $* with" >&2
    return 1
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "error: $why; install Debian's $* as root" >&2
      return 1
    fi
    sudo=sudo
  fi
  echo "$why: installing $* with apt" >&2
  local log
  log=$(mktemp)
  if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
         && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
              --no-install-recommends "$@"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "error: could not install $* with apt" >&2
    return 1
  fi
  rm -f "$log"
}
