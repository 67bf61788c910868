#!/bin/sh
# Installs what build, run and tests need on Debian 12; a no-op when all is there.
set -eu
cd "$(dirname "$0")/.."

PKGS="apache2 apache2-dev libaprutil1-dbd-sqlite3 libaprutil1-dbd-pgsql pkg-config
libssl-dev openssl libxml2-dev libxml2-utils libcurl4-openssl-dev libjansson-dev
libmemcached-dev libmemcached-tools memcached libgd-dev libpng-dev fonts-dejavu-core fonts-wqy-microhei sqlite3
libdeflate-dev liblodepng-dev
libapache2-mod-perl2 libwww-perl libjson-perl libhttp-cookies-perl libdbd-sqlite3-perl libgd-perl
postgresql libdbd-pg-perl
chromium wrk clang-format"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# Node.js: the machine's own when it has one (Debian's npm conflicts with it)
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing Debian packages:$missing (run 'make deps' as root)" >&2
        exit 1
    fi
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

# the unprivileged user the test suite runs as (Apache::Test refuses root)
if [ "$(id -u)" = 0 ] && ! id cnca >/dev/null 2>&1; then
    useradd --system --create-home --home-dir /var/lib/cnca-test --shell /bin/sh cnca
fi

# front-end packages (signature_pad for the pages, playwright-core and
# html-validate for the browser tests), from the lock file
if [ -f package-lock.json ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; }; then
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
fi
# the pages' signature pad, from the package npm installed (a copy stays
# committed in htdocs/vendor so that `make run` works without npm)
pad=node_modules/signature_pad/dist/signature_pad.umd.min.js
if [ -f "$pad" ] && ! cmp -s "$pad" htdocs/vendor/signature_pad.umd.min.js; then
    mkdir -p htdocs/vendor
    cp "$pad" htdocs/vendor/signature_pad.umd.min.js
fi
exit 0
