# Sourced by scripts/test.sh: make sure a throwaway PostgreSQL server runs for the tests.
#
# The app runs on SQLite or on PostgreSQL (DATABASE_URL); the tests in tests/test_postgres.py
# prove the second against a real server, not a mock. ensure_postgres installs Debian's
# postgresql package with apt when it is missing, keeps one cluster under build/postgres/
# (untracked), starts it on a free port on 127.0.0.1 and exports
#   COMMONS_TEST_POSTGRES_URL=postgresql+psycopg://commons:<password>@127.0.0.1:<port>/commons
# for a role that may create databases (each test makes its own and drops it). It is idempotent:
# a server still up from an earlier run is reused, a stopped cluster is started again.
# initdb refuses to run as root, so as root the cluster belongs to the postgres user.

. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

_pg_bindir() {
  # Debian keeps the server binaries out of PATH, one folder per major version.
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
  elif command -v initdb >/dev/null; then
    dirname "$(command -v initdb)"
  fi
}

_pg_install() {
  apt_install "the PostgreSQL tests need a server (initdb is missing)" postgresql
}

_pg_as_owner() {
  # Run a server command as the cluster's owner: postgres when we are root, else ourselves.
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

_pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_pg_base() {
  # build/postgres/ unless the postgres user cannot reach it (a checkout under /root): then /tmp.
  local base="$PWD/build/postgres"
  mkdir -p "$base"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$base"; then
    base="${TMPDIR:-/tmp}/commons-test-postgres"
    mkdir -p "$base"
    chmod 755 "$base"
  fi
  echo "$base"
}

ensure_postgres() {
  local bindir
  bindir=$(_pg_bindir)
  if [ -z "$bindir" ]; then
    _pg_install || return 1
    bindir=$(_pg_bindir)
    if [ -z "$bindir" ]; then
      echo "error: postgresql is installed but no initdb was found under /usr/lib/postgresql" >&2
      return 1
    fi
  fi
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "error: running as root but there is no postgres user to own the cluster" >&2
    return 1
  fi

  local base data run log password_file port version
  base=$(_pg_base) || return 1
  data="$base/data"
  run="$base/run"            # the Unix socket and the server log: written by the server
  log="$run/server.log"
  password_file="$base/password"
  version=$("$bindir/postgres" --version | awk '{print $3}' | cut -d. -f1)  # "15.18" -> 15

  if [ -f "$data/PG_VERSION" ] && [ "$(cat "$data/PG_VERSION")" != "$version" ]; then
    # A cluster from another major version cannot be started by this one; it is throwaway.
    _pg_as_owner "$bindir/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$data"
  fi
  mkdir -p "$run"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$run"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    mkdir -p "$data"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$data"
    chmod 700 "$data"
    if ! _pg_as_owner "$bindir/initdb" -D "$data" -U postgres --auth-local=trust \
         --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1; then
      cat "$base/initdb.log" >&2
      echo "error: initdb failed for $data" >&2
      return 1
    fi
  fi

  if _pg_as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    port=$(sed -n 4p "$data/postmaster.pid")
  else
    port=$(_pg_free_port) || return 1
    if ! _pg_as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
         -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$run" \
         start >/dev/null; then
      [ -f "$log" ] && tail -n 30 "$log" >&2
      echo "error: could not start PostgreSQL from $data" >&2
      return 1
    fi
  fi

  if [ ! -s "$password_file" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(16))' >"$password_file")
  fi
  local password
  password=$(cat "$password_file")
  # The role and its database, created once; the password is (re)set so it matches the file.
  if ! _pg_as_owner "$bindir/psql" -X -q -h "$run" -p "$port" -U postgres -d postgres \
       -v ON_ERROR_STOP=1 -v pw="$password" >"$base/psql.log" 2>&1 <<'SQL'
SELECT format('CREATE ROLE commons LOGIN CREATEDB PASSWORD %L', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'commons') \gexec
SELECT format('ALTER ROLE commons LOGIN CREATEDB PASSWORD %L', :'pw') \gexec
SELECT 'CREATE DATABASE commons OWNER commons'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'commons') \gexec
SQL
  then
    cat "$base/psql.log" >&2
    echo "error: could not create the commons role and database on port $port" >&2
    return 1
  fi
  export COMMONS_TEST_POSTGRES_URL="postgresql+psycopg://commons:$password@127.0.0.1:$port/commons"
}
