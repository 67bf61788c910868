# Sourced by tools/test.sh, tools/run.sh and tools/bench.sh: the things a
# test run needs that are not httpd — keys, a fresh SQLite database, a dev
# CA, and memcached on a free port — and their teardown (runs as the
# unprivileged user); and the run folder of a dev instance (make run, make
# bench) with its memcached on a unix socket there, its httpd, and their
# stop handler.

# glibc gives each of httpd's 64 threads per child an arena of its own, up
# to 8 per CPU, and each keeps free memory up to its trim threshold: a
# child's RSS then sits about 20 MB higher and wanders by megabytes. With 4
# arenas the CPU per enrollment is the same (BENCHMARKS.md, finding 7);
# README advises the same for /etc/apache2/envvars.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-4}"

free_port() {
    perl -MIO::Socket::INET -e \
        'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die; print $s->sockport, "\n"'
}

# instance_files RUN: RUN/logs, the keys (kept when there) and the SQLite
# database of a dev instance
instance_files() {
    mkdir -p "$1/logs"
    umask 077
    [ -s "$1/master.key" ] || openssl rand -hex 32 >"$1/master.key"
    [ -s "$1/gateway.secret" ] || openssl rand -hex 24 >"$1/gateway.secret"
    umask 022
    sqlite3 "$1/cnca.db" <"$top/sql/schema.sqlite.sql" >/dev/null
    sqlite3 "$1/cnca.db" <"$top/sql/sandbox.sqlite.sql" >/dev/null
}

# ca_kind ALG: the kind of CA (tools/devca.sh) that issues keys of ALG
ca_kind() {
    case "$1" in
        sm2) echo sm2 ;;
        rsa-*) echo rsa ;;
        *) echo ec ;;
    esac
}

# instance_user RUN: sets user, group and mcuser (memcached's -u option) to
# what httpd's children and memcached run as — not root: as root `cnca`
# (or nobody), who then owns RUN
instance_user() {
    if [ "$(id -u)" = 0 ]; then
        user=cnca
        id "$user" >/dev/null 2>&1 || user=nobody
        chown -R "$user" "$1"
        chmod 755 "$1"
        mcuser="-u $user"
    else
        user=$(id -un)
        mcuser=""
    fi
    group=$(id -gn "$user")
}

# instance_memcached RUN ARGS...: memcached in the background on the unix
# socket RUN/memcached.sock with ARGS added (after instance_user: it runs
# as $user, whom httpd's children run as too, and makes the socket with
# mode 0770 in RUN, which $user owns). Sets mc_pid (memcached itself) and
# mc_sock, and waits up to 5 s for the socket; 1 when memcached did not
# start. The caller stops it (kill $mc_pid).
instance_memcached() {
    mc_sock="$1/memcached.sock"
    shift
    mc_pid=""
    # bytes, not characters (${#mc_sock} counts characters in bash)
    if [ "$(printf %s "$mc_sock" | wc -c)" -gt 107 ]; then
        echo "memcached's socket $mc_sock: longer than the 107 bytes a socket path may have" >&2
        return 1
    fi
    # a socket left behind would look like the new one
    if ! rm -f "$mc_sock" || [ -e "$mc_sock" ]; then
        echo "cannot remove $mc_sock, left by an earlier memcached" >&2
        return 1
    fi
    # shellcheck disable=SC2086 # $mcuser: none or two words
    memcached -s "$mc_sock" -a 0770 "$@" $mcuser &
    mc_pid=$!
    mc_waited=0
    until [ -S "$mc_sock" ]; do
        if ! kill -0 "$mc_pid" 2>/dev/null || [ "$mc_waited" -ge 50 ]; then
            echo "memcached did not start on $mc_sock" >&2
            return 1
        fi
        sleep 0.1
        mc_waited=$((mc_waited + 1))
    done
}

# instance_httpd CONF: httpd -DFOREGROUND in the background on CONF (after
# instance_user and instance_memcached; reads top, run, port and alg), its
# settings in the environment CONF reads; CONF is checked first, its errors
# shown and 1 returned. Sets httpd_pid.
instance_httpd() {
    export CNCA_TOP="$top" CNCA_RUN="$run" CNCA_PORT="$port" CNCA_MC_SOCKET="$mc_sock" \
        CNCA_USER="$user" CNCA_GROUP="$group" CNCA_KEY_ALG="$alg"
    /usr/sbin/apache2 -f "$1" -t >/dev/null 2>&1 || /usr/sbin/apache2 -f "$1" -t || return 1
    /usr/sbin/apache2 -f "$1" -DFOREGROUND &
    httpd_pid=$!
}

# instance_stop: the stop handler of a dev instance (trap it on EXIT): lifts
# the traps, then stops and waits for httpd and memcached (instance_httpd,
# instance_memcached), whichever has started
instance_stop() {
    trap - INT TERM EXIT
    if [ -n "${httpd_pid:-}" ] && kill -TERM "$httpd_pid" 2>/dev/null; then
        wait "$httpd_pid" 2>/dev/null || true
    fi
    if [ -n "${mc_pid:-}" ]; then
        kill "$mc_pid" 2>/dev/null || true
        wait "$mc_pid" 2>/dev/null || true
    fi
    return 0
}

testenv_setup() {
    testenv_pg_stop # a cluster an interrupted run left running
    var="$top/t/var"
    rm -rf "$var" "$top/t/logs"
    mkdir -p "$var/ca" "$top/t/logs"
    umask 077
    openssl rand -hex 32 >"$var/master.key"
    openssl rand -hex 24 >"$var/gateway.secret"
    umask 022
    sqlite3 "$var/cnca.db" <"$top/sql/schema.sqlite.sql" >/dev/null || return 1
    if [ -f "$top/sql/sandbox.sqlite.sql" ]; then
        sqlite3 "$var/cnca.db" <"$top/sql/sandbox.sqlite.sql" >/dev/null || return 1
    fi
    # the main server's CA, and one of each other kind for the issuance tests
    sh "$top/tools/devca.sh" ec "$var/ca" >/dev/null || return 1
    sh "$top/tools/devca.sh" sm2 "$var/ca-sm2" >/dev/null || return 1
    sh "$top/tools/devca.sh" rsa "$var/ca-rsa" >/dev/null || return 1
    CNCA_MC_PORT=$(free_port)
    CNCA_MC_PIDFILE="$var/memcached.pid"
    export CNCA_MC_PORT CNCA_MC_PIDFILE
    export CNCA_DB="$var/cnca.db"
    memcached -d -l 127.0.0.1 -p "$CNCA_MC_PORT" -U 0 -m 64 -c 1024 -P "$CNCA_MC_PIDFILE" || return 1
    i=0
    while ! [ -s "$CNCA_MC_PIDFILE" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    echo "memcached on 127.0.0.1:$CNCA_MC_PORT"
    testenv_pg_start || return 1
}

testenv_teardown() {
    if [ -n "${CNCA_MC_PIDFILE:-}" ] && [ -s "$CNCA_MC_PIDFILE" ]; then
        kill "$(cat "$CNCA_MC_PIDFILE")" 2>/dev/null
    fi
    if [ -f "$top/t/conf/httpd.conf" ]; then
        (cd "$top" && perl t/TEST -stop-httpd >/dev/null 2>&1)
    fi
    testenv_pg_stop
}

# PostgreSQL, for the <VirtualHost cnca_pg> of t/conf/extra.conf.in
# (t/api/pgsql.t) and build/unit/test_db: a throwaway cluster in
# t/var/pg owned by the current user, on a unix socket only (no TCP), with
# the database cnca holding sql/schema.pgsql.sql and sql/sandbox.pgsql.sql.
# Exports CNCA_PG_SOCKET, CNCA_PG_PORT, CNCA_PG_USER and CNCA_PG_PARAMS (the
# libpq connection string, as DBDParams takes it). No PostgreSQL server is a
# failure, not a skip.
testenv_pg_bindir() {
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -n -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

# psql ARGS... on the test cluster (after testenv_pg_start)
testenv_pg_psql() {
    PGOPTIONS='-c client_min_messages=warning' "$(testenv_pg_bindir)/psql" -X -q \
        -v ON_ERROR_STOP=1 -h "$CNCA_PG_SOCKET" -p "$CNCA_PG_PORT" -U "$CNCA_PG_USER" "$@" \
        >/dev/null
}

testenv_pg_start() {
    pgbin=$(testenv_pg_bindir) || {
        echo "testenv: no PostgreSQL server (initdb, pg_ctl, psql in" \
            "/usr/lib/postgresql/*/bin): run 'make deps' as root" >&2
        return 1
    }
    pgdata="$top/t/var/pg"
    pglog="$top/t/var/postgresql.log"
    CNCA_PG_SOCKET="$pgdata"
    # a unix socket's path (DIR/.s.PGSQL.PORT) has at most 107 bytes
    if [ ${#CNCA_PG_SOCKET} -gt 80 ]; then
        CNCA_PG_SOCKET=$(mktemp -d /tmp/cnca-pg.XXXXXX) || return 1
    fi
    CNCA_PG_PORT=$(free_port)
    CNCA_PG_USER=$(id -un)
    CNCA_PG_PARAMS="host=$CNCA_PG_SOCKET port=$CNCA_PG_PORT dbname=cnca user=$CNCA_PG_USER"
    export CNCA_PG_SOCKET CNCA_PG_PORT CNCA_PG_USER CNCA_PG_PARAMS
    if ! "$pgbin/initdb" -D "$pgdata" -U "$CNCA_PG_USER" -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync --no-instructions >"$pglog" 2>&1; then
        echo "testenv: initdb failed:" >&2
        cat "$pglog" >&2
        return 1
    fi
    # a test cluster: nothing to keep across a crash, so nothing is synced
    {
        echo "listen_addresses = ''"
        echo "port = $CNCA_PG_PORT"
        echo "unix_socket_directories = '$CNCA_PG_SOCKET'"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
    } >>"$pgdata/postgresql.conf"
    if ! "$pgbin/pg_ctl" -D "$pgdata" -l "$pglog" -w -t 30 start >/dev/null 2>&1; then
        echo "testenv: PostgreSQL did not start:" >&2
        tail -n 20 "$pglog" >&2
        return 1
    fi
    testenv_pg_psql -d postgres -c 'CREATE DATABASE cnca' &&
        testenv_pg_psql -d cnca -f "$top/sql/schema.pgsql.sql" &&
        testenv_pg_psql -d cnca -f "$top/sql/sandbox.pgsql.sql" || {
        echo "testenv: loading sql/*.pgsql.sql into PostgreSQL failed" >&2
        return 1
    }
    echo "PostgreSQL on $CNCA_PG_SOCKET/.s.PGSQL.$CNCA_PG_PORT"
}

testenv_pg_stop() {
    pgdata="$top/t/var/pg"
    if [ -f "$pgdata/postmaster.pid" ] && pgbin=$(testenv_pg_bindir); then
        "$pgbin/pg_ctl" -D "$pgdata" -m fast -w -t 20 stop >/dev/null 2>&1 ||
            "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1
    fi
    case "${CNCA_PG_SOCKET:-}" in
        /tmp/cnca-pg.*) rm -rf "$CNCA_PG_SOCKET" ;;
    esac
    return 0
}
