# Sourced by tools/test.sh and tools/bench.sh: the things a test run needs
# that are not httpd — keys, a fresh SQLite database, a dev CA, and memcached
# on a free port — and their teardown. Runs as the unprivileged user.

free_port() {
    perl -MIO::Socket::INET -e \
        'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die; print $s->sockport, "\n"'
}

testenv_setup() {
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
}

testenv_teardown() {
    if [ -n "${CNCA_MC_PIDFILE:-}" ] && [ -s "$CNCA_MC_PIDFILE" ]; then
        kill "$(cat "$CNCA_MC_PIDFILE")" 2>/dev/null
    fi
    if [ -f "$top/t/conf/httpd.conf" ]; then
        (cd "$top" && perl t/TEST -stop-httpd >/dev/null 2>&1)
    fi
}
