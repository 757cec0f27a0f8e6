# Sourced by scripts/test.sh: make sure Debian's Chromium is at /usr/bin/chromium.
#
# The browser tests drive it with Playwright; Playwright's own browser download is not used
# (`playwright install` needs a CDN that CI cannot reach), Debian's package is. Installed with
# apt (as root, or through sudo); apt's chatter goes to a log that is shown only on failure.
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  apt_install "the browser tests need Debian's Chromium at /usr/bin/chromium" chromium
}
