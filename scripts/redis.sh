# Sourced by scripts/test.sh: make sure a throwaway Redis server runs for the tests.
#
# Rate limits are counted per process by default, or in Redis when COMMONS_RATE_LIMIT_STORAGE
# names one; tests/test_rate_limits.py proves that two apps (two gunicorn workers) share one
# budget through a real server, not a mock. ensure_redis installs Debian's redis-server package
# with apt when it is missing, keeps its files under build/redis/ (untracked), starts it
# daemonized on a free port on 127.0.0.1 with a generated password and no persistence, and exports
#   COMMONS_TEST_REDIS_URL=redis://:<password>@127.0.0.1:<port>/0
# It is idempotent: a server still up from an earlier run (its pid file names a live process
# that answers PING) is reused. Redis runs as whoever calls it, root included.

. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

_redis_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_redis_answers() {
  # _redis_answers PORT PASSWORD: true when a server on that port takes the password and pongs.
  [ "$(REDISCLI_AUTH="$2" redis-cli -h 127.0.0.1 -p "$1" --no-auth-warning ping 2>/dev/null)" = "PONG" ]
}

ensure_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install "the rate limit tests need a Redis server (redis-server is missing)" \
      redis-server || return 1
  fi
  if ! command -v redis-server >/dev/null; then
    echo "error: redis-server is installed but not on the PATH" >&2
    return 1
  fi

  local base="$PWD/build/redis" password port pid
  mkdir -p "$base"
  chmod 700 "$base"
  if [ ! -s "$base/password" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(16))' >"$base/password")
  fi
  password=$(cat "$base/password")

  if [ -s "$base/redis.pid" ] && [ -s "$base/port" ]; then
    pid=$(cat "$base/redis.pid")
    port=$(cat "$base/port")
    if kill -0 "$pid" 2>/dev/null && _redis_answers "$port" "$password"; then
      export COMMONS_TEST_REDIS_URL="redis://:$password@127.0.0.1:$port/0"
      return 0
    fi
  fi

  port=$(_redis_free_port) || return 1
  # The password goes in a file only we can read, not on a command line others can see.
  (umask 077 && cat >"$base/redis.conf" <<CONF
bind 127.0.0.1
port $port
protected-mode yes
requirepass $password
daemonize yes
pidfile $base/redis.pid
logfile $base/redis.log
dir $base
save ""
appendonly no
CONF
  )
  rm -f "$base/redis.pid"
  if ! redis-server "$base/redis.conf" >/dev/null; then
    [ -f "$base/redis.log" ] && tail -n 20 "$base/redis.log" >&2
    echo "error: could not start redis-server from $base/redis.conf" >&2
    return 1
  fi
  local tries=0
  until _redis_answers "$port" "$password"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then
      [ -f "$base/redis.log" ] && tail -n 20 "$base/redis.log" >&2
      echo "error: redis-server did not answer on 127.0.0.1:$port" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "$port" >"$base/port"
  export COMMONS_TEST_REDIS_URL="redis://:$password@127.0.0.1:$port/0"
}
