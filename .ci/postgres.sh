#!/usr/bin/env bash
# A throwaway PostgreSQL server for alsrec's tests (Debian's packages).
#
#   eval "$(.ci/postgres.sh start)"   start a cluster in a new temporary directory, listening on
#                                      127.0.0.1 at a free port with trust authentication, and
#                                      print `export ALSREC_TEST_POSTGRES_DSN=...` and
#                                      `export ALSREC_TEST_POSTGRES_DIR=...` for the tests
#   .ci/postgres.sh stop DIR           stop the cluster started in DIR and delete DIR
#
# When PostgreSQL is not installed, `start` installs it with apt-get if it runs as root and
# ALSREC_PG_INSTALL is not 0. When that is impossible it prints nothing on stdout, explains
# why on stderr and exits 0: the PostgreSQL test then skips, naming the reason.
set -uo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    local d
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then
        echo "$d"
        return 0
    fi
    return 1
}

# Run a command as the cluster's owner: PostgreSQL refuses to run as root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local bindir dir port
    if ! bindir=$(find_bindir); then
        if [ "$(id -u)" -eq 0 ] && [ "${ALSREC_PG_INSTALL:-1}" != 0 ] && command -v apt-get >/dev/null 2>&1; then
            log "installing Debian's postgresql with apt-get"
            if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2; then
                log "apt-get could not install postgresql; the PostgreSQL test will skip"
                return 0
            fi
        fi
        if ! bindir=$(find_bindir); then
            log "no PostgreSQL binaries (initdb, pg_ctl) found; the PostgreSQL test will skip"
            return 0
        fi
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        log "running as root and there is no 'postgres' user to own the cluster; the test will skip"
        return 0
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/alsrec-pg.XXXXXX") || return 1
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || return 1
    if ! as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
        log "initdb failed:"; cat "$dir/initdb.log" >&2; rm -rf "$dir"; return 1
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" start >&2; then
        log "the server did not start:"; cat "$dir/server.log" >&2; rm -rf "$dir"; return 1
    fi
    echo "export ALSREC_TEST_POSTGRES_DSN='postgresql://postgres@127.0.0.1:$port/postgres'"
    echo "export ALSREC_TEST_POSTGRES_DIR='$dir'"
    log "PostgreSQL running on 127.0.0.1:$port (data in $dir)"
}

stop() {
    local dir=${1:-} bindir
    [ -n "$dir" ] || return 0
    [ -d "$dir/data" ] || { rm -rf "$dir"; return 0; }
    if bindir=$(find_bindir); then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2 || log "pg_ctl stop failed"
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
