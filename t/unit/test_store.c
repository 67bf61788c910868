/* Unit tests for cnca_store_memcached.c against real memcacheds that this
 * test starts, one on a free port and one on a unix domain socket in a
 * folder of its own: get/set/add/cas/delete, TTLs, hashed keys, binary
 * values, fail-closed when memcached dies (APR_EGENERAL, never
 * APR_NOTFOUND), recovery on the very next request when it comes back, CAS
 * from two threads through the connection pool, a list that mixes both,
 * and a hung memcached on the socket failing within the poll timeout. */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "tap.h"
#include "testlib.h"
#include "cnca_config.h"
#include "cnca_log.h"
#include "cnca_store.h"

/* ---- a memcached of our own ---- */

static testlib_mc_t mc4 = {NULL, "127.0.0.1", 0, 0, NULL};
static testlib_mc_t mc6 = {NULL, "::1", 0, 0, NULL};

/* memcached on a unix domain socket, in a folder of the test's own */
static testlib_mc_t mcu = {NULL, NULL, 0, 0, NULL};
static char mcu_dir[64];                                           /* memcached's when root */
static char mcu_path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* mcu_dir/memcached.sock */

/* Makes the folder (memcached's own when root: it runs as nobody and makes
 * the socket there) and points mcu at the socket in it. 1, or 0 with the
 * reason in a "# " line. */
static int mcu_folder(void)
{
    struct passwd *pw;

    snprintf(mcu_dir, sizeof(mcu_dir), "/tmp/cnca-test-store.XXXXXX");
    if (!mkdtemp(mcu_dir)) {
        printf("#   mkdtemp: %s\n", strerror(errno));
        mcu_dir[0] = '\0';
        return 0;
    }
    snprintf(mcu_path, sizeof(mcu_path), "%s/memcached.sock", mcu_dir);
    mcu.socket = mcu_path;
    if (geteuid() == 0 && (!(pw = getpwnam("nobody")) || chown(mcu_dir, pw->pw_uid, pw->pw_gid))) {
        printf("#   cannot give %s to nobody\n", mcu_dir);
        return 0;
    }
    return 1;
}

static void mc_stop_all(void)
{
    testlib_mc_stop(&mc4, SIGKILL);
    testlib_mc_stop(&mc6, SIGKILL);
    testlib_mc_stop(&mcu, SIGKILL);
    if (mcu_dir[0]) {
        unlink(mcu_path);
        rmdir(mcu_dir);
        mcu_dir[0] = '\0';
    }
}

/* ---- tests ---- */

static cnca_store_t *store;  /* the store on mc4, for the whole run */
static cnca_store_t *ustore; /* the store on mcu's socket */

/* A test's description: as it is over TCP (via NULL), prefixed "via: "
 * otherwise. */
static const char *says(apr_pool_t *p, const char *via, const char *what)
{
    return via ? apr_psprintf(p, "%s: %s", via, what) : what;
}

/* A store on the list arg, as CNCAMemcachedServers gives it: the list
 * parses to want (its normalised form), and the store is created on it
 * (not connected yet). NULL when either fails. */
static cnca_store_t *store_on(apr_pool_t *p, const char *arg, const char *want, int pool_max,
                              const char *via)
{
    const char *servers = NULL, *err = cnca_conf_parse_memcached(&servers, p, arg);
    cnca_store_t *s = NULL;

    is_str(err ? err : servers, want, says(p, via, "the list parses, normalised"));
    is_int(cnca_store_create(&s, p, servers ? servers : "", pool_max), APR_SUCCESS,
           says(p, via, "create on the normalised list"));
    ok(s != NULL, says(p, via, "a store on it"));
    return s;
}

static const char *key_for(apr_pool_t *p, const char *name)
{
    return cnca_store_key(p, "t", apr_psprintf(p, "%s-%d", name, (int)getpid()));
}

static void test_create(void)
{
    apr_pool_t *p = tap_pool();
    cnca_store_t *s = (cnca_store_t *)&s;
    apr_status_t rv;

    rv = cnca_store_create(&s, p, "", 4);
    is_int(rv, APR_EGENERAL, "create with an empty server list fails");
    ok(s == NULL, "create failed: no store");
    is_str(testlib_log_last, "CNCA00111: cannot use memcached servers ''",
           "create with an empty server list: logged");
    s = (cnca_store_t *)&s;
    is_int(cnca_store_create(&s, p, " , ", 4), APR_EGENERAL,
           "create with separators only (no server) fails");
    ok(s == NULL, "no server: no store");

    rv = cnca_store_create(&store, tap_pool(), apr_psprintf(p, "127.0.0.1:%d", mc4.port), 4);
    is_int(rv, APR_SUCCESS, "create on our memcached");
    ok(store != NULL, "a store");
}

static void test_keys(void)
{
    apr_pool_t *p = tap_pool();
    const char *name = "张三 13812345678 31010119900307123X";
    const char *k1 = cnca_store_key(p, "s", name);
    const char *k2 = cnca_store_key(p, "s", apr_pstrdup(p, name));
    const char *k3 = cnca_store_key(p, "s", "张三 13812345678 31010119900307123x");
    const char *k4 = cnca_store_key(p, "otp", name);
    const char *k5 = cnca_store_key(p, "s", "");
    const char *s;
    int clean = 1;

    ok(k1 && !strncmp(k1, "cnca:s:", 7), "key starts with cnca:KIND:");
    ok(!strstr(k1, "张三") && !strstr(k1, "13812345678") && !strstr(k1, "31010119900307123X"),
       "key holds no part of the name in the clear");
    is_str(k1, k2, "same input, same key");
    ok(strcmp(k1, k3) != 0, "one character different, another key");
    ok(strcmp(k1, k4) != 0, "another kind, another key");
    ok(strcmp(k1 + 7, k4 + 9) == 0, "the kind is a namespace over the same hash");
    ok(strlen(k1) <= 250, "key at most 250 characters (memcached's limit)");
    is_int(strlen(k1), 7 + 64, "key is the prefix and 64 hex characters");
    for (s = k1; *s; ++s) {
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) {
            clean = 0;
        }
    }
    ok(clean, "key has no spaces or control or non-ASCII characters");
    ok(k5 && strlen(k5) == 7 + 64, "empty name: a key too");
}

static void test_basic(cnca_store_t *s, const char *via)
{
    apr_pool_t *p = tap_pool();
    const char *key = key_for(p, "basic");
    char *val = (char *)"x";
    apr_size_t len = 99;
    uint64_t cas = 99, cas2 = 0;
    apr_status_t rv;

    cnca_store_delete(s, key);
    rv = cnca_store_get(&val, &len, &cas, s, p, key);
    is_int(rv, APR_NOTFOUND, says(p, via, "get of a missing key: APR_NOTFOUND"));
    ok(val == NULL && len == 0 && cas == 0, says(p, via, "missing key: outputs cleared"));

    is_int(cnca_store_set(s, key, "hello", 5, 60), APR_SUCCESS, says(p, via, "set"));
    rv = cnca_store_get(&val, &len, &cas, s, p, key);
    is_int(rv, APR_SUCCESS, says(p, via, "get after set"));
    is_str(val, "hello", says(p, via, "get returns what was set"));
    is_int(len, 5, says(p, via, "get returns the length"));
    ok(cas != 0, says(p, via, "get returns a CAS"));
    rv = cnca_store_get(&val, &len, NULL, s, p, key);
    is_int(rv, APR_SUCCESS, says(p, via, "get without asking for the CAS"));

    is_int(cnca_store_set(s, key, "world!", 6, 60), APR_SUCCESS, says(p, via, "set replaces"));
    cnca_store_get(&val, &len, &cas2, s, p, key);
    is_str(val, "world!", says(p, via, "get returns the replacement"));
    ok(cas2 != cas, says(p, via, "a write changes the CAS"));

    is_int(cnca_store_add(s, key, "other", 5, 60), APR_EEXIST,
           says(p, via, "add when present: APR_EEXIST"));
    cnca_store_get(&val, &len, NULL, s, p, key);
    is_str(val, "world!", says(p, via, "add when present changed nothing"));

    is_int(cnca_store_delete(s, key), APR_SUCCESS, says(p, via, "delete"));
    is_int(cnca_store_get(&val, &len, NULL, s, p, key), APR_NOTFOUND,
           says(p, via, "get after delete: APR_NOTFOUND"));
    is_int(cnca_store_delete(s, key), APR_SUCCESS,
           says(p, via, "delete of a missing key succeeds"));

    is_int(cnca_store_add(s, key, "first", 5, 60), APR_SUCCESS, says(p, via, "add when absent"));
    cnca_store_get(&val, &len, NULL, s, p, key);
    is_str(val, "first", says(p, via, "get returns what add stored"));
    is_int(cnca_store_set(s, key, "", 0, 60), APR_SUCCESS, says(p, via, "set an empty value"));
    rv = cnca_store_get(&val, &len, NULL, s, p, key);
    ok(rv == APR_SUCCESS && len == 0 && val && *val == '\0',
       says(p, via, "an empty value is there, empty"));
    cnca_store_delete(s, key);
}

static void test_cas(cnca_store_t *s, const char *via)
{
    apr_pool_t *p = tap_pool();
    const char *key = key_for(p, "cas");
    char *val;
    apr_size_t len;
    uint64_t cas1 = 0, cas2 = 0;

    cnca_store_set(s, key, "v1", 2, 60);
    cnca_store_get(&val, &len, &cas1, s, p, key);
    is_int(cnca_store_cas(s, key, "v2", 2, 60, cas1), APR_SUCCESS,
           says(p, via, "cas with the right CAS"));
    cnca_store_get(&val, &len, &cas2, s, p, key);
    is_str(val, "v2", says(p, via, "cas stored the value"));
    is_int(cnca_store_cas(s, key, "v3", 2, 60, cas1), APR_EEXIST,
           says(p, via, "cas with a stale CAS: APR_EEXIST"));
    cnca_store_get(&val, &len, NULL, s, p, key);
    is_str(val, "v2", says(p, via, "stale cas changed nothing"));

    cnca_store_set(s, key, "v4", 2, 60); /* another writer */
    is_int(cnca_store_cas(s, key, "v5", 2, 60, cas2), APR_EEXIST,
           says(p, via, "cas after another writer's set: APR_EEXIST"));

    cnca_store_delete(s, key);
    is_int(cnca_store_cas(s, key, "v6", 2, 60, cas2), APR_NOTFOUND,
           says(p, via, "cas on a key that has gone: APR_NOTFOUND"));
    is_int(cnca_store_get(&val, &len, NULL, s, p, key), APR_NOTFOUND,
           says(p, via, "cas on a gone key did not create it"));
}

static void test_values(cnca_store_t *s, const char *via)
{
    apr_pool_t *p = tap_pool();
    const char *key = key_for(p, "values");
    const char *utf8 = "张三丰 · 认证失败：“手机号码与身份信息不一致”。\r\nEND\r\n";
    char bin[256], *val, *big;
    apr_size_t len, i, big_len = 200 * 1024;
    apr_status_t rv;

    for (i = 0; i < sizeof(bin); ++i) {
        bin[i] = (char)(255 - i); /* every byte value, NUL among them */
    }
    is_int(cnca_store_set(s, key, bin, sizeof(bin), 60), APR_SUCCESS,
           says(p, via, "set 256 binary bytes"));
    rv = cnca_store_get(&val, &len, NULL, s, p, key);
    ok(rv == APR_SUCCESS && len == sizeof(bin) && !memcmp(val, bin, sizeof(bin)),
       says(p, via, "binary value back byte for byte, NULs included"));
    ok(rv == APR_SUCCESS && val[len] == '\0',
       says(p, via, "value is NUL-terminated after its length"));

    is_int(cnca_store_set(s, key, utf8, strlen(utf8), 60), APR_SUCCESS,
           says(p, via, "set UTF-8 with CRLF and END inside"));
    rv = cnca_store_get(&val, &len, NULL, s, p, key);
    is_str(rv == APR_SUCCESS ? val : NULL, utf8, says(p, via, "UTF-8 value back as it was"));

    big = apr_palloc(p, big_len);
    for (i = 0; i < big_len; ++i) {
        big[i] = (char)('a' + i % 26);
    }
    is_int(cnca_store_set(s, key, big, big_len, 60), APR_SUCCESS, says(p, via, "set 200 KB"));
    rv = cnca_store_get(&val, &len, NULL, s, p, key);
    ok(rv == APR_SUCCESS && len == big_len && !memcmp(val, big, big_len),
       says(p, via, "200 KB back"));
    cnca_store_delete(s, key);
}

/* The TTL keys are written first and read after the other tests, which
 * spend part of the wait. */
static apr_time_t ttl_set_at;

static void test_ttl_begin(void)
{
    apr_pool_t *p = tap_pool();
    char *val;
    apr_size_t len;

    cnca_store_set(store, key_for(p, "ttl"), "short", 5, 1);
    cnca_store_set(store, key_for(p, "ttl-keep"), "long", 4, 60);
    ttl_set_at = apr_time_now();
    is_int(cnca_store_get(&val, &len, NULL, store, p, key_for(p, "ttl")), APR_SUCCESS,
           "ttl 1: there at first");
}

static void test_ttl_end(void)
{
    apr_pool_t *p = tap_pool();
    const char *key = key_for(p, "ttl"), *keep = key_for(p, "ttl-keep");
    apr_time_t left = ttl_set_at + apr_time_from_sec(2) - apr_time_now();
    char *val;
    apr_size_t len;
    apr_status_t rv;
    int waited;

    if (left > 0) {
        apr_sleep(left);
    }
    rv = cnca_store_get(&val, &len, NULL, store, p, key);
    for (waited = 0; rv == APR_SUCCESS && waited < 10; ++waited) {
        /* memcached's clock ticks once a second */
        apr_sleep(apr_time_from_msec(100));
        rv = cnca_store_get(&val, &len, NULL, store, p, key);
    }
    is_int(rv, APR_NOTFOUND, "ttl 1: gone after 2 s");
    is_int(cnca_store_get(&val, &len, NULL, store, p, keep), APR_SUCCESS, "ttl 60: still there");
    cnca_store_delete(store, keep);
}

/* ---- two threads, one key, CAS increments ---- */

#define INCREMENTS 1000

typedef struct {
    cnca_store_t *store;
    const char *key;
    apr_pool_t *pool; /* unmanaged: this thread's alone */
    int done, conflicts, errors;
} worker_t;

static void *APR_THREAD_FUNC increment(apr_thread_t *thread, void *data)
{
    worker_t *w = data;
    int attempts = 0;

    while (w->done < INCREMENTS && attempts++ < 100 * INCREMENTS && w->errors < 10) {
        char *val;
        const char *next;
        apr_size_t len;
        uint64_t cas;
        apr_status_t rv;

        apr_pool_clear(w->pool);
        if (cnca_store_get(&val, &len, &cas, w->store, w->pool, w->key) != APR_SUCCESS) {
            ++w->errors;
            continue;
        }
        next = apr_psprintf(w->pool, "%d", atoi(val) + 1);
        rv = cnca_store_cas(w->store, w->key, next, strlen(next), 60, cas);
        if (rv == APR_SUCCESS) {
            ++w->done;
        } else if (rv == APR_EEXIST) {
            ++w->conflicts;
        } else {
            ++w->errors;
        }
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static void test_threads(cnca_store_t *s, const char *via)
{
    apr_pool_t *p = tap_pool();
    const char *key = key_for(p, "counter");
    worker_t w[2];
    apr_thread_t *t[2];
    apr_status_t rv, trv;
    char *val;
    apr_size_t len;
    int i, started = 0;
    apr_time_t t0 = apr_time_now();

    cnca_store_set(s, key, "0", 1, 60);
    for (i = 0; i < 2; ++i) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].store = s;
        w[i].key = key;
        apr_pool_create_unmanaged_ex(&w[i].pool, NULL, NULL);
    }
    for (i = 0; i < 2; ++i) {
        if (apr_thread_create(&t[i], NULL, increment, &w[i], p) == APR_SUCCESS) {
            ++started;
        }
    }
    is_int(started, 2, says(p, via, "two threads started"));
    for (i = 0; i < started; ++i) {
        apr_thread_join(&trv, t[i]);
    }
    for (i = 0; i < 2; ++i) {
        apr_pool_destroy(w[i].pool);
    }
    is_int(w[0].done + w[1].done, 2 * INCREMENTS, says(p, via, "2000 successful CAS writes"));
    is_int(w[0].errors + w[1].errors, 0, says(p, via, "no store errors in the threads"));
    rv = cnca_store_get(&val, &len, NULL, s, p, key);
    is_str(rv == APR_SUCCESS ? val : NULL, "2000", says(p, via, "the counter is exactly 2000"));
    printf("# %d + %d conflicts retried, %.2f s\n", w[0].conflicts, w[1].conflicts,
           (double)(apr_time_now() - t0) / APR_USEC_PER_SEC);
    cnca_store_delete(s, key);
}

/* ---- IPv6, through the directive parser's normalised form ---- */

static void test_ipv6(void)
{
    apr_pool_t *p = tap_pool();
    cnca_store_t *s6;
    const char *key = key_for(p, "ipv6"), *list;
    char *val = NULL;
    apr_size_t len;

    mc6.bin = mc4.bin;
    mc6.port = testlib_free_port(AF_INET6);
    if (!mc6.port || !testlib_mc_start(&mc6)) {
        printf("ok %d # SKIP no IPv6 loopback for memcached\n", ++tap_count);
        return;
    }
    list = apr_psprintf(p, "[::1]:%d", mc6.port);
    if ((s6 = store_on(p, list, list, 2, "IPv6"))) {
        is_int(cnca_store_set(s6, key, "v6", 2, 60), APR_SUCCESS, "set over IPv6");
        is_int(cnca_store_get(&val, &len, NULL, s6, p, key), APR_SUCCESS, "get over IPv6");
        is_str(val, "v6", "get over IPv6 returns what was set");
    }
    testlib_mc_stop(&mc6, SIGKILL);
}

/* ---- memcached dies, then comes back ---- */

static void fails_closed(cnca_store_t *s, apr_pool_t *p, const char *key, const char *when)
{
    char *val = (char *)"x";
    apr_size_t len;
    uint64_t cas = 7;
    apr_status_t rv;
    apr_time_t t0;
    double secs;

    t0 = apr_time_now();
    rv = cnca_store_get(&val, &len, &cas, s, p, key);
    secs = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    is_int(rv, APR_EGENERAL, apr_psprintf(p, "%s: get is APR_EGENERAL, not NOTFOUND", when));
    ok(secs < 2.5, apr_psprintf(p, "%s: get fails within 2.5 s (%.2f s)", when, secs));
    ok(val == NULL, apr_psprintf(p, "%s: no value", when));

    t0 = apr_time_now();
    rv = cnca_store_set(s, key, "v", 1, 60);
    secs = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    is_int(rv, APR_EGENERAL, apr_psprintf(p, "%s: set is APR_EGENERAL", when));
    ok(secs < 2.5, apr_psprintf(p, "%s: set fails within 2.5 s (%.2f s)", when, secs));

    is_int(cnca_store_add(s, key, "v", 1, 60), APR_EGENERAL,
           apr_psprintf(p, "%s: add is APR_EGENERAL (not EEXIST)", when));
    is_int(cnca_store_cas(s, key, "v", 1, 60, 1), APR_EGENERAL,
           apr_psprintf(p, "%s: cas is APR_EGENERAL (not EEXIST/NOTFOUND)", when));
    is_int(cnca_store_delete(s, key), APR_EGENERAL,
           apr_psprintf(p, "%s: delete is APR_EGENERAL", when));
}

/* mc, the memcached behind s, is killed and started again where it was */
static void test_down_and_back(cnca_store_t *s, const char *via, testlib_mc_t *mc)
{
    apr_pool_t *p = tap_pool();
    const char *key = key_for(p, "down");
    char *val;
    apr_size_t len;
    apr_status_t rv;
    int lines;

    cnca_store_set(s, key, "before", 6, 60);
    testlib_mc_stop(mc, SIGKILL);
    lines = testlib_log_lines;
    fails_closed(s, p, key, says(p, via, "memcached killed"));
    fails_closed(s, p, key, says(p, via, "memcached still down"));
    ok(testlib_log_lines > lines, says(p, via, "failures are logged"));
    ok(testlib_log_starts("CNCA00113: memcached delete failed: "),
       says(p, via, "the last failure (the delete) is logged as CNCA00113 with the operation"));
    printf("#   last log line: %s\n", testlib_log_last);

    ok(testlib_mc_start(mc),
       says(p, via,
            apr_psprintf(p, "memcached restarted on the same %s", mc->socket ? "socket" : "port")));
    /* no second of "temporarily disabled" after the failures */
    rv = cnca_store_set(s, key, "after", 5, 60);
    is_int(rv, APR_SUCCESS, says(p, via, "the very next set after the restart works"));
    rv = cnca_store_get(&val, &len, NULL, s, p, key);
    is_str(rv == APR_SUCCESS ? val : NULL, "after",
           says(p, via, "get works again after the restart"));
    /* every pooled connection recovers, not just the one that was used */
    {
        int i, bad = 0;
        for (i = 0; i < 20; ++i) {
            if (cnca_store_get(&val, &len, NULL, s, p, key) != APR_SUCCESS) {
                ++bad;
            }
        }
        is_int(bad, 0, says(p, via, "20 gets in a row after the restart all succeed"));
    }
    cnca_store_delete(s, key);
}

/* ---- memcached on a unix domain socket ---- */

#define VIA_UNIX "unix socket"

static void test_socket_create(void)
{
    ustore = store_on(tap_pool(), mcu_path, mcu_path, 4, VIA_UNIX);
}

/* A list of both: each key lives on one of them, and both get keys. */
static void test_mixed(void)
{
    apr_pool_t *p = tap_pool();
    cnca_store_t *both =
        store_on(p, apr_psprintf(p, "127.0.0.1:%d, %s", mc4.port, mcu_path),
                 apr_psprintf(p, "127.0.0.1:%d,%s", mc4.port, mcu_path), 2, "mixed list");
    int i, stored = 0, back = 0, on_one = 0, on_tcp = 0, on_unix = 0;

    if (!both) {
        return;
    }
    for (i = 0; i < 32; ++i) {
        const char *key = key_for(p, apr_psprintf(p, "mixed-%d", i));
        const char *v = apr_psprintf(p, "v%d", i);
        char *val;
        apr_size_t len;
        int t, u;

        stored += cnca_store_set(both, key, v, strlen(v), 60) == APR_SUCCESS;
        back += cnca_store_get(&val, &len, NULL, both, p, key) == APR_SUCCESS && !strcmp(val, v);
        t = cnca_store_get(&val, &len, NULL, store, p, key) == APR_SUCCESS;
        u = cnca_store_get(&val, &len, NULL, ustore, p, key) == APR_SUCCESS;
        on_one += t + u == 1;
        on_tcp += t;
        on_unix += u;
        cnca_store_delete(both, key);
    }
    is_int(stored, 32, "mixed list: 32 sets");
    is_int(back, 32, "mixed list: 32 gets return what was set");
    is_int(on_one, 32, "mixed list: each key is on exactly one of the two");
    ok(on_tcp > 0 && on_unix > 0,
       apr_psprintf(p, "mixed list: both hold keys (%d over TCP, %d on the socket)", on_tcp,
                    on_unix));
}

/* memcached stopped (SIGSTOP) keeps its socket open and answers nothing:
 * the poll timeout (1 s, one retry) ends the wait, as over TCP */
static void test_socket_hung(void)
{
    apr_pool_t *p = tap_pool();
    const char *key = key_for(p, "hung");
    char *val = NULL;
    apr_size_t len;
    apr_status_t rv;
    apr_time_t t0;
    double secs;
    int status = 0;

    cnca_store_set(ustore, key, "kept", 4, 60);
    kill(mcu.pid, SIGSTOP);
    /* until every thread of it has stopped */
    ok(waitpid(mcu.pid, &status, WUNTRACED) == mcu.pid && WIFSTOPPED(status),
       "unix socket: memcached stopped (SIGSTOP)");
    t0 = apr_time_now();
    rv = cnca_store_get(&val, &len, NULL, ustore, p, key);
    secs = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    kill(mcu.pid, SIGCONT);
    is_int(rv, APR_EGENERAL, "unix socket, memcached hung: get is APR_EGENERAL");
    ok(secs < 3,
       apr_psprintf(p, "unix socket, memcached hung: get fails within 3 s (%.2f s)", secs));
    rv = cnca_store_get(&val, &len, NULL, ustore, p, key);
    is_str(rv == APR_SUCCESS ? val : NULL, "kept",
           "unix socket, memcached going again: the next get works");
    cnca_store_delete(ustore, key);
}

/* Nothing at servers (no socket at the path, nothing listening on the
 * port): create does not connect yet, and get and set are errors, not
 * misses, within secs. The descriptions: creates for the create, "none: "
 * before the others, fails for the time. */
static void test_none_there(const char *servers, const char *creates, const char *none, int secs,
                            const char *fails)
{
    apr_pool_t *p = tap_pool();
    cnca_store_t *s = NULL;
    char *val;
    apr_size_t len;
    apr_time_t t0;

    is_int(cnca_store_create(&s, p, servers, 2), APR_SUCCESS, creates);
    if (!s) {
        return;
    }
    t0 = apr_time_now();
    is_int(cnca_store_get(&val, &len, NULL, s, p, cnca_store_key(p, "t", "x")), APR_EGENERAL,
           says(p, none, "get is APR_EGENERAL"));
    is_int(cnca_store_set(s, cnca_store_key(p, "t", "x"), "v", 1, 60), APR_EGENERAL,
           says(p, none, "set is APR_EGENERAL"));
    ok(apr_time_now() - t0 < apr_time_from_sec(secs), says(p, none, fails));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as httpd does */
    tap_pool();               /* initialises APR */
    cnca_log_set_sink(testlib_log_sink, NULL);
    if (!(mc4.bin = testlib_find_memcached())) {
        printf("1..0 # SKIP memcached not found\n");
        return 0;
    }
    atexit(mc_stop_all);
    mc4.port = testlib_free_port(AF_INET);
    if (!mc4.port || !testlib_mc_start(&mc4)) {
        printf("Bail out! could not start %s on 127.0.0.1:%d\n", mc4.bin, mc4.port);
        return 1;
    }
    test_create();
    if (!store) {
        printf("Bail out! no store\n");
        return 1;
    }
    test_ttl_begin();
    test_keys();
    test_basic(store, NULL);
    test_cas(store, NULL);
    test_values(store, NULL);
    test_threads(store, NULL);
    test_ipv6();
    test_none_there(apr_psprintf(tap_pool(), "127.0.0.1:%d", testlib_free_port(AF_INET)),
                    "create does not connect yet", "nothing listening", 3, "fails fast");

    mcu.bin = mc4.bin;
    if (ok(mcu_folder(), "a folder for memcached's socket") &&
        ok(testlib_mc_start(&mcu), apr_psprintf(tap_pool(), "memcached started on %s", mcu_path))) {
        test_socket_create();
    }
    if (ustore) {
        test_basic(ustore, VIA_UNIX);
        test_cas(ustore, VIA_UNIX);
        test_values(ustore, VIA_UNIX);
        test_threads(ustore, VIA_UNIX);
        test_mixed();
        test_none_there(apr_psprintf(tap_pool(), "%s/none.sock", mcu_dir),
                        "no socket at the path: create does not connect yet",
                        "no socket at the path", 1, "fails at once");
        test_socket_hung();
        test_down_and_back(ustore, VIA_UNIX, &mcu);
    }

    test_ttl_end();
    test_down_and_back(store, NULL, &mc4);
    mc_stop_all();
    return tap_done();
}
