#!/bin/sh
# `make run`: a dev instance in the foreground on 127.0.0.1:PORT (default 8080)
# with memcached on a unix socket in run/, a SQLite database, generated
# keys, a dev CA and the sandbox gateway. Ctrl-C stops everything it started.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
port=${1:-8080}
run="$top/run"
. "$top/tools/testenv.sh"

instance_files "$run"
alg=${CNCA_KEY_ALG:-ec-p256}
sh "$top/tools/devca.sh" "${CNCA_CA_KIND:-$(ca_kind "$alg")}" "$run/ca" >/dev/null
instance_user "$run"

mc_pid=""
httpd_pid=""
stop() {
    trap - INT TERM EXIT
    [ -n "$httpd_pid" ] && kill -TERM "$httpd_pid" 2>/dev/null && wait "$httpd_pid" 2>/dev/null
    [ -n "$mc_pid" ] && kill "$mc_pid" 2>/dev/null
    echo "stopped."
}
trap stop INT TERM EXIT

# memcached on run/memcached.sock (conf/dev.conf: CNCAMemcachedServers
# ${CNCA_MC_SOCKET}), as the user httpd's children run as
instance_memcached "$run" -m 64

export CNCA_TOP="$top" CNCA_RUN="$run" CNCA_PORT="$port" CNCA_MC_SOCKET="$mc_sock" \
    CNCA_USER="$user" CNCA_GROUP="$group" CNCA_KEY_ALG="$alg"
/usr/sbin/apache2 -f "$top/conf/dev.conf" -t >/dev/null 2>&1 || /usr/sbin/apache2 -f "$top/conf/dev.conf" -t
cat <<MSG

mod_cnca is running (Ctrl-C stops it):
  pages          http://127.0.0.1:$port/cnca/
  API            http://127.0.0.1:$port/cnca/api/session
  SMS inbox      http://127.0.0.1:$port/sandbox/    (sandbox gateway: every SMS code lands here)
  logs           $run/logs/error_log
  memcached      $mc_sock
  database       $run/cnca.db

MSG
/usr/sbin/apache2 -f "$top/conf/dev.conf" -DFOREGROUND &
httpd_pid=$!
wait "$httpd_pid" || true
