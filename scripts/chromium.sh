# Sourced by scripts/test.sh: make sure Debian's Chromium is at /usr/bin/chromium.
#
# The browser tests drive it with Playwright; Playwright's own browser download is not used
# (`playwright install` needs a CDN that CI cannot reach), Debian's package is. Installed with
# apt (as root, or through sudo); apt's chatter goes to a log that is shown only on failure.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "error: /usr/bin/chromium is missing and there is no apt-get to install it with" >&2
    return 1
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "error: /usr/bin/chromium is missing; install Debian's chromium package as root" >&2
      return 1
    fi
    sudo=sudo
  fi
  echo "the browser tests need Debian's Chromium: installing chromium with apt" >&2
  local log
  log=$(mktemp)
  if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
         && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
              --no-install-recommends chromium; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "error: could not install chromium with apt" >&2
    return 1
  fi
  rm -f "$log"
}
