#!/usr/bin/env bash
# Samvad's private Redis and PostgreSQL, for SAMVAD_STORES=shared and for `make test`.
#
#   scripts/services.sh start [redis|postgres]    install if missing (root), start, wait, create role/db
#   scripts/services.sh stop [redis|postgres]     stop them (the data stays in var/services/)
#   scripts/services.sh status [redis|postgres]   say what runs; exit status 1 if something is down
#
# Both listen on 127.0.0.1 only and keep everything under var/services/ (gitignored; as root,
# when other users cannot enter the checkout, their data is in /var/lib/samvad-services/): they
# are the project's own, apart from any Redis or PostgreSQL the machine runs as a system service.
# Ports: SAMVAD_SERVICES_REDIS_PORT (56379) and SAMVAD_SERVICES_POSTGRES_PORT (55432); when
# another program holds one, `start` stops at once and names it. One
# generated password, in var/services/password (mode 0600), is Redis's `requirepass` and the
# password of the PostgreSQL role `samvad`, which owns the database `samvad` (and may create
# more: the tests give each run its own). As root, Redis runs as the `redis` user and PostgreSQL
# as `postgres` (it refuses to run as root); otherwise both run as the calling user.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${SAMVAD_SERVICES_DIR:-$ROOT/var/services}"
REDIS_PORT="${SAMVAD_SERVICES_REDIS_PORT:-56379}"
PG_PORT="${SAMVAD_SERVICES_POSTGRES_PORT:-55432}"
PASSWORD_FILE="$DIR/password"
# As root, the services run as their own users, who must reach their data: when the checkout
# lies in a folder other users cannot enter (a home or CI folder of mode 0700), their data goes
# to /var/lib/samvad-services/<checkout hash>/ instead (the password stays in $DIR).
DATA="$DIR"
if [ "$(id -u)" = 0 ] && ! runuser -u nobody -- test -x "$ROOT" 2>/dev/null; then
  DATA="/var/lib/samvad-services/$(printf %s "$ROOT" | sha256sum | cut -c1-12)"
fi
REDIS_DIR="$DATA/redis"
PG_DATA="$DATA/postgres"
PG_RUN="$DATA/postgres-run"  # its socket and its log
WAIT_SECONDS=30

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

say() { echo "services: $*"; }
fail() { echo "services: $*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# Run "$@" as the service user $1 when root (and that user exists), else as ourselves.
as_user() {
  local user="$1"; shift
  if is_root && [ "$user" != root ]; then (cd / && runuser -u "$user" -- "$@"); else "$@"; fi
}

# The user a service runs as: its system user when root, else the caller.
service_user() {
  if is_root && id "$1" >/dev/null 2>&1; then echo "$1"; else id -un; fi
}

pg_bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [ -x "$dir/pg_ctl" ]; then echo "$dir"; return; fi
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/pg_ctl" ]; then echo "$dir"; return; fi
  done
  return 1
}

install_missing() {
  local wanted=()
  if [ "$1" != postgres ] && ! command -v redis-server >/dev/null 2>&1; then
    wanted+=(redis-server)
  fi
  if [ "$1" != redis ] && ! pg_bindir >/dev/null; then
    wanted+=(postgresql)
  fi
  [ "${#wanted[@]}" = 0 ] && return
  if ! is_root; then
    fail "${wanted[*]} missing: run 'apt-get update && apt-get install -y ${wanted[*]}' as root"
  fi
  say "installing ${wanted[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${wanted[@]}" >/dev/null
  # Debian starts a system-wide Redis on 6379 when it installs it; ours is separate, so that
  # one (just installed, nobody else's) is stopped and not started at boot.
  if [[ " ${wanted[*]} " == *" redis-server "* ]]; then
    if [ -d /run/systemd/system ]; then
      systemctl disable --now redis-server >/dev/null 2>&1 || true
    else
      service redis-server stop >/dev/null 2>&1 || true
    fi
  fi
}

ensure_password() {
  mkdir -p "$DIR" "$DATA"
  chmod 0755 "$DIR" "$DATA"
  if [ ! -s "$PASSWORD_FILE" ]; then
    (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$PASSWORD_FILE")
  fi
  chmod 0600 "$PASSWORD_FILE"
}

password() { cat "$PASSWORD_FILE"; }

redis_cli() {
  REDISCLI_AUTH="$(password)" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

redis_up() {
  [ -s "$PASSWORD_FILE" ] && command -v redis-cli >/dev/null 2>&1 \
    && [ "$(redis_cli ping 2>/dev/null)" = PONG ]
}

pg_up() {
  local bin
  bin="$(pg_bindir 2>/dev/null)" || return 1
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null
}

# Ours runs: the cluster in $PG_DATA is started (its postmaster.pid is live) and answers.
pg_ours() {
  local bin
  bin="$(pg_bindir 2>/dev/null)" && [ -s "$PG_DATA/PG_VERSION" ] \
    && as_user "$(service_user postgres)" "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1 \
    && pg_up
}

# What listens on TCP port $1 (nothing printed when nothing does): the program and pid that
# ss reports, or "another program" when it may not say (a process of another user).
port_holder() {
  local line
  if command -v ss >/dev/null 2>&1; then
    line="$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1)"
    [ -n "$line" ] || return 0
    if [[ "$line" =~ users:\(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
      echo "${BASH_REMATCH[1]} (pid ${BASH_REMATCH[2]})"
    else
      echo "another program"
    fi
  elif (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "another program"
  fi
}

# Stop with one line when a service of ours cannot have its port: $1 the service, $2 the
# port, $3 the setting that moves it.
require_free_port() {
  local holder
  holder="$(port_holder "$2")"
  [ -z "$holder" ] && return 0
  fail "$1 cannot start: port $2 is taken by $holder; stop that, or set $3 to a free port"
}

wait_for() {
  local name="$1" check="$2" waited=0
  until "$check"; do
    if [ "$waited" -ge $((WAIT_SECONDS * 5)) ]; then
      fail "$name did not answer within ${WAIT_SECONDS} s (log: $3)"
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
}

start_redis() {
  if redis_up; then say "redis already running on 127.0.0.1:$REDIS_PORT"; return; fi
  local user conf="$REDIS_DIR/redis.conf"
  user="$(service_user redis)"
  mkdir -p "$REDIS_DIR"
  # The config (with the password) is readable by the Redis user only.
  (umask 077 && cat >"$conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
dir $REDIS_DIR
pidfile $REDIS_DIR/redis.pid
logfile $REDIS_DIR/redis.log
save ""
appendonly no
requirepass $(password)
EOF
  )
  chown -R "$user": "$REDIS_DIR"
  as_user "$user" redis-server "$conf" >/dev/null
  wait_for redis redis_up "$REDIS_DIR/redis.log"
  say "redis running on 127.0.0.1:$REDIS_PORT"
}

# psql as the cluster's superuser (the OS user that owns it: peer authentication on the socket).
psql_admin() {
  local user; user="$(service_user postgres)"
  as_user "$user" "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" \
    -U "$user" -d postgres "$@"
}

start_postgres() {
  local bin user; bin="$(pg_bindir)"
  user="$(service_user postgres)"
  mkdir -p "$PG_DATA" "$PG_RUN"
  chown "$user": "$PG_DATA" "$PG_RUN"
  chmod 0700 "$PG_DATA"
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    say "creating the PostgreSQL cluster in $PG_DATA"
    # Local socket connections trust the cluster's owner only (peer); TCP needs a password.
    as_user "$user" "$bin/initdb" -D "$PG_DATA" -U "$user" -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  fi
  if pg_ours; then
    say "postgres already running on 127.0.0.1:$PG_PORT"
  else
    as_user "$user" "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_RUN/postgres.log" -w -t "$WAIT_SECONDS" \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_RUN" start >/dev/null
    wait_for postgres pg_up "$PG_RUN/postgres.log"
    say "postgres running on 127.0.0.1:$PG_PORT"
  fi
  # The password goes in on stdin (hex digits: safe to quote), never on a command line.
  psql_admin <<SQL
\\set secret '$(password)'
SELECT format('CREATE ROLE samvad LOGIN CREATEDB PASSWORD %L', :'secret')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'samvad') \gexec
SELECT format('ALTER ROLE samvad LOGIN CREATEDB PASSWORD %L', :'secret') \gexec
SELECT 'CREATE DATABASE samvad OWNER samvad'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'samvad') \gexec
SQL
}

stop_redis() {
  if redis_up; then
    redis_cli shutdown nosave >/dev/null 2>&1 || true
    local waited=0
    while redis_up && [ "$waited" -lt 50 ]; do sleep 0.2; waited=$((waited + 1)); done
    say "redis stopped"
  else
    say "redis was not running"
  fi
}

stop_postgres() {
  local bin user
  user="$(service_user postgres)"
  if bin="$(pg_bindir 2>/dev/null)" && [ -s "$PG_DATA/PG_VERSION" ] \
    && as_user "$user" "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    as_user "$user" "$bin/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
    say "postgres stopped"
  else
    say "postgres was not running"
  fi
}

status() {
  local down=0
  if [ "$1" != postgres ]; then
    if redis_up; then say "redis running on 127.0.0.1:$REDIS_PORT"; else say "redis down"; down=1; fi
  fi
  if [ "$1" != redis ]; then
    if pg_ours; then say "postgres running on 127.0.0.1:$PG_PORT"; else say "postgres down"; down=1; fi
  fi
  return "$down"
}

main() {
  local command="${1:-}" which="${2:-all}"
  case "$which" in redis | postgres | all) ;; *) usage >&2; exit 2 ;; esac
  case "$command" in
    start)
      if [ "$which" = all ] && redis_up && pg_ours; then
        say "redis (127.0.0.1:$REDIS_PORT) and postgres (127.0.0.1:$PG_PORT) already running; nothing to do"
        return
      fi
      # A port held by a program not ours fails here, before anything is installed or started.
      if [ "$which" != postgres ] && ! redis_up; then
        require_free_port redis "$REDIS_PORT" SAMVAD_SERVICES_REDIS_PORT
      fi
      if [ "$which" != redis ] && ! pg_ours; then
        require_free_port postgres "$PG_PORT" SAMVAD_SERVICES_POSTGRES_PORT
      fi
      install_missing "$which"
      ensure_password
      if [ "$which" != postgres ]; then start_redis; fi
      if [ "$which" != redis ]; then start_postgres; fi
      say "password in $PASSWORD_FILE"
      ;;
    stop)
      if [ "$which" != postgres ]; then stop_redis; fi
      if [ "$which" != redis ]; then stop_postgres; fi
      ;;
    status) status "$which" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
