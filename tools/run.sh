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
    instance_stop
    echo "stopped."
}
trap stop INT TERM EXIT

# memcached on run/memcached.sock (conf/dev.conf: CNCAMemcachedServers
# ${CNCA_MC_SOCKET}), as the user httpd's children run as
instance_memcached "$run" -m 64

instance_httpd "$top/conf/dev.conf"
cat <<MSG

mod_cnca is running (Ctrl-C stops it):
  pages          http://127.0.0.1:$port/cnca/
  API            http://127.0.0.1:$port/cnca/api/session
  SMS inbox      http://127.0.0.1:$port/sandbox/    (sandbox gateway: every SMS code lands here)
  logs           $run/logs/error_log
  memcached      $mc_sock
  database       $run/cnca.db

MSG
wait "$httpd_pid" || true
