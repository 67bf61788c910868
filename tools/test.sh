#!/bin/sh
# `make test`: the C unit tests, then the Apache::Test suite against real
# httpd + memcached + SQLite + the sandbox gateway, then the browser tests.
# As root it copies the tree to a folder the unprivileged user `cnca` owns and
# runs there (Apache::Test and memcached refuse root); logs come back to t/logs.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" = 0 ]; then
    work=$(mktemp -d /tmp/cnca-test.XXXXXX)
    tar -C "$top" --exclude=./.git --exclude=./t/logs --exclude=./t/var --exclude=./run \
        -cf - . | tar -C "$work" -xf -
    chown -R cnca: "$work"
    rc=0
    runuser -u cnca -- env HOME=/var/lib/cnca-test CNCA_ONLY_API="${CNCA_ONLY_API:-}" CNCA_API_TESTS="${CNCA_API_TESTS:-}" \
        sh "$work/tools/test.sh" || rc=$?
    rm -rf "$top/t/logs" "$top/t/artifacts"
    [ -d "$work/t/logs" ] && cp -r "$work/t/logs" "$top/t/logs"
    [ -d "$work/t/artifacts" ] && cp -r "$work/t/artifacts" "$top/t/artifacts"
    rm -rf "$work"
    exit $rc
fi

cd "$top"
. "$top/tools/testenv.sh"
testenv_setup || exit 1
trap testenv_teardown EXIT INT TERM

passed=0
failed=0
# count(LOG): adds the Tests= total and the failures a prove-style log reports
count() {
    n=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$1" | tail -n 1)
    f=$(grep '^not ok' "$1" | grep -vc '# TODO' || true)
    passed=$((passed + ${n:-0} - f))
    failed=$((failed + f))
}

rc=0
echo "== unit tests"
prove --exec '' build/unit/test_* 2>&1 | tee t/var/unit.log || rc=1
prove --exec '' -v build/unit/test_* >t/var/unit-verbose.log 2>&1
count t/var/unit-verbose.log

echo "== Apache::Test suite"
export APACHE_TEST_NO_STICKY_PREFERENCES=1
if ! perl t/TEST -httpd /usr/sbin/apache2 -apxs /usr/bin/apxs -port select \
    -start-httpd >t/var/start.log 2>&1; then
    grep -v 'Could not open configuration file' t/var/start.log
    tail -n 30 t/logs/error_log 2>/dev/null
    cp t/var/*.log t/logs/ 2>/dev/null
    echo "total: $passed passed, $((failed + 1)) failed"
    exit 1
fi
CNCA_HTTP_PORT=$(sed -n 's/^Listen *\(.*:\)\{0,1\}\([0-9][0-9]*\)$/\2/p' t/conf/httpd.conf | head -n 1)
export CNCA_HTTP_PORT
echo "httpd on 127.0.0.1:$CNCA_HTTP_PORT"
# CNCA_API_TESTS="t/api/x.t ..." runs only those
# shellcheck disable=SC2086
perl t/TEST -run-tests ${CNCA_API_TESTS:-} >t/var/api.log 2>&1 || rc=1
grep -v 'Could not open configuration file' t/var/api.log
n=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' t/var/api.log | tail -n 1)
[ -z "$n" ] && { echo "the Apache::Test suite did not run to its end"; rc=1; failed=$((failed + 1)); }
fails=0
for k in $(sed -n 's/^t\/.*(Wstat: .* Failed: \([0-9]*\)).*/\1/p' t/var/api.log); do
    fails=$((fails + k))
done
# a test file that died before its plan counts as one failure at least
if grep -q '^Result: FAIL' t/var/api.log && [ "$fails" -eq 0 ]; then fails=1; fi
passed=$((passed + ${n:-0} - ${fails:-0}))
failed=$((failed + ${fails:-0}))

# CNCA_ONLY_API=1 skips the browser tests (a quick run of the rest)
if [ -z "${CNCA_ONLY_API:-}" ] && [ -d t/browser ] && ls t/browser/*.mjs >/dev/null 2>&1; then
    echo "== browser tests"
    CNCA_BASE_URL="http://127.0.0.1:${CNCA_HTTP_PORT}" CNCA_ARTIFACTS="$top/t/artifacts" \
        node --test t/browser/ >t/var/browser.log 2>&1 || rc=1
    cat t/var/browser.log
    bp=$(sed -n 's/^# pass \([0-9]*\)/\1/p' t/var/browser.log | tail -n 1)
    bf=$(sed -n 's/^# fail \([0-9]*\)/\1/p' t/var/browser.log | tail -n 1)
    passed=$((passed + ${bp:-0}))
    failed=$((failed + ${bf:-0}))
fi

cp t/var/*.log t/logs/ 2>/dev/null
echo
echo "total: $passed passed, $failed failed"
[ "$failed" -gt 0 ] && rc=1
exit $rc
