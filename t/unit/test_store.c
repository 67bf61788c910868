/* Unit tests for cnca_store_memcached.c against a real memcached that this
 * test starts on a free port: get/set/add/cas/delete, TTLs, hashed keys,
 * binary values, fail-closed when memcached dies (APR_EGENERAL, never
 * APR_NOTFOUND), recovery when it comes back, and CAS from two threads
 * through the connection pool. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "tap.h"
#include "testlib.h"
#include "cnca_config.h"
#include "cnca_log.h"
#include "cnca_store.h"

/* ---- a memcached of our own ---- */

static testlib_mc_t mc4 = {NULL, "127.0.0.1", 0, 0};
static testlib_mc_t mc6 = {NULL, "::1", 0, 0};

static void mc_stop_all(void)
{
    testlib_mc_stop(&mc4, SIGKILL);
    testlib_mc_stop(&mc6, SIGKILL);
}

/* ---- tests ---- */

static cnca_store_t *store; /* the store on mc4, for the whole run */

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
    ok(rv != APR_SUCCESS, "create with an empty server list fails");
    ok(s == NULL, "create failed: no store");

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

static void test_basic(void)
{
    apr_pool_t *p = tap_pool();
    const char *key = key_for(p, "basic");
    char *val = (char *)"x";
    apr_size_t len = 99;
    uint64_t cas = 99, cas2 = 0;
    apr_status_t rv;

    cnca_store_delete(store, key);
    rv = cnca_store_get(&val, &len, &cas, store, p, key);
    is_int(rv, APR_NOTFOUND, "get of a missing key: APR_NOTFOUND");
    ok(val == NULL && len == 0 && cas == 0, "missing key: outputs cleared");

    is_int(cnca_store_set(store, key, "hello", 5, 60), APR_SUCCESS, "set");
    rv = cnca_store_get(&val, &len, &cas, store, p, key);
    is_int(rv, APR_SUCCESS, "get after set");
    is_str(val, "hello", "get returns what was set");
    is_int(len, 5, "get returns the length");
    ok(cas != 0, "get returns a CAS");
    rv = cnca_store_get(&val, &len, NULL, store, p, key);
    is_int(rv, APR_SUCCESS, "get without asking for the CAS");

    is_int(cnca_store_set(store, key, "world!", 6, 60), APR_SUCCESS, "set replaces");
    cnca_store_get(&val, &len, &cas2, store, p, key);
    is_str(val, "world!", "get returns the replacement");
    ok(cas2 != cas, "a write changes the CAS");

    is_int(cnca_store_add(store, key, "other", 5, 60), APR_EEXIST, "add when present: APR_EEXIST");
    cnca_store_get(&val, &len, NULL, store, p, key);
    is_str(val, "world!", "add when present changed nothing");

    is_int(cnca_store_delete(store, key), APR_SUCCESS, "delete");
    is_int(cnca_store_get(&val, &len, NULL, store, p, key), APR_NOTFOUND,
           "get after delete: APR_NOTFOUND");
    is_int(cnca_store_delete(store, key), APR_SUCCESS, "delete of a missing key succeeds");

    is_int(cnca_store_add(store, key, "first", 5, 60), APR_SUCCESS, "add when absent");
    cnca_store_get(&val, &len, NULL, store, p, key);
    is_str(val, "first", "get returns what add stored");
    is_int(cnca_store_set(store, key, "", 0, 60), APR_SUCCESS, "set an empty value");
    rv = cnca_store_get(&val, &len, NULL, store, p, key);
    ok(rv == APR_SUCCESS && len == 0 && val && *val == '\0', "an empty value is there, empty");
    cnca_store_delete(store, key);
}

static void test_cas(void)
{
    apr_pool_t *p = tap_pool();
    const char *key = key_for(p, "cas");
    char *val;
    apr_size_t len;
    uint64_t cas1 = 0, cas2 = 0;

    cnca_store_set(store, key, "v1", 2, 60);
    cnca_store_get(&val, &len, &cas1, store, p, key);
    is_int(cnca_store_cas(store, key, "v2", 2, 60, cas1), APR_SUCCESS, "cas with the right CAS");
    cnca_store_get(&val, &len, &cas2, store, p, key);
    is_str(val, "v2", "cas stored the value");
    is_int(cnca_store_cas(store, key, "v3", 2, 60, cas1), APR_EEXIST,
           "cas with a stale CAS: APR_EEXIST");
    cnca_store_get(&val, &len, NULL, store, p, key);
    is_str(val, "v2", "stale cas changed nothing");

    cnca_store_set(store, key, "v4", 2, 60); /* another writer */
    is_int(cnca_store_cas(store, key, "v5", 2, 60, cas2), APR_EEXIST,
           "cas after another writer's set: APR_EEXIST");

    cnca_store_delete(store, key);
    is_int(cnca_store_cas(store, key, "v6", 2, 60, cas2), APR_NOTFOUND,
           "cas on a key that has gone: APR_NOTFOUND");
    is_int(cnca_store_get(&val, &len, NULL, store, p, key), APR_NOTFOUND,
           "cas on a gone key did not create it");
}

static void test_values(void)
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
    is_int(cnca_store_set(store, key, bin, sizeof(bin), 60), APR_SUCCESS, "set 256 binary bytes");
    rv = cnca_store_get(&val, &len, NULL, store, p, key);
    ok(rv == APR_SUCCESS && len == sizeof(bin) && !memcmp(val, bin, sizeof(bin)),
       "binary value back byte for byte, NULs included");
    ok(rv == APR_SUCCESS && val[len] == '\0', "value is NUL-terminated after its length");

    is_int(cnca_store_set(store, key, utf8, strlen(utf8), 60), APR_SUCCESS,
           "set UTF-8 with CRLF and END inside");
    rv = cnca_store_get(&val, &len, NULL, store, p, key);
    is_str(rv == APR_SUCCESS ? val : NULL, utf8, "UTF-8 value back as it was");

    big = apr_palloc(p, big_len);
    for (i = 0; i < big_len; ++i) {
        big[i] = (char)('a' + i % 26);
    }
    is_int(cnca_store_set(store, key, big, big_len, 60), APR_SUCCESS, "set 200 KB");
    rv = cnca_store_get(&val, &len, NULL, store, p, key);
    ok(rv == APR_SUCCESS && len == big_len && !memcmp(val, big, big_len), "200 KB back");
    cnca_store_delete(store, key);
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

static void test_threads(void)
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

    cnca_store_set(store, key, "0", 1, 60);
    for (i = 0; i < 2; ++i) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].store = store;
        w[i].key = key;
        apr_pool_create_unmanaged_ex(&w[i].pool, NULL, NULL);
    }
    for (i = 0; i < 2; ++i) {
        if (apr_thread_create(&t[i], NULL, increment, &w[i], p) == APR_SUCCESS) {
            ++started;
        }
    }
    is_int(started, 2, "two threads started");
    for (i = 0; i < started; ++i) {
        apr_thread_join(&trv, t[i]);
    }
    for (i = 0; i < 2; ++i) {
        apr_pool_destroy(w[i].pool);
    }
    is_int(w[0].done + w[1].done, 2 * INCREMENTS, "2000 successful CAS writes");
    is_int(w[0].errors + w[1].errors, 0, "no store errors in the threads");
    rv = cnca_store_get(&val, &len, NULL, store, p, key);
    is_str(rv == APR_SUCCESS ? val : NULL, "2000", "the counter is exactly 2000");
    printf("# %d + %d conflicts retried, %.2f s\n", w[0].conflicts, w[1].conflicts,
           (double)(apr_time_now() - t0) / APR_USEC_PER_SEC);
    cnca_store_delete(store, key);
}

/* ---- IPv6, through the directive parser's normalised form ---- */

static void test_ipv6(void)
{
    apr_pool_t *p = tap_pool();
    cnca_store_t *s6 = NULL;
    const char *servers = NULL, *err, *key = key_for(p, "ipv6");
    char *val;
    apr_size_t len;

    mc6.bin = mc4.bin;
    mc6.port = testlib_free_port(AF_INET6);
    if (!mc6.port || !testlib_mc_start(&mc6)) {
        printf("ok %d # SKIP no IPv6 loopback for memcached\n", ++tap_count);
        return;
    }
    err = cnca_conf_parse_memcached(&servers, p, apr_psprintf(p, "[::1]:%d", mc6.port));
    ok(!err && servers, "[::1]:PORT parses");
    is_int(cnca_store_create(&s6, p, servers ? servers : "", 2), APR_SUCCESS,
           "a store on the normalised [::1]:PORT");
    if (s6) {
        is_int(cnca_store_set(s6, key, "v6", 2, 60), APR_SUCCESS, "set over IPv6");
        is_int(cnca_store_get(&val, &len, NULL, s6, p, key), APR_SUCCESS, "get over IPv6");
    }
    testlib_mc_stop(&mc6, SIGKILL);
}

/* ---- memcached dies, then comes back ---- */

static void fails_closed(apr_pool_t *p, const char *key, const char *when)
{
    char *val = (char *)"x";
    apr_size_t len;
    uint64_t cas = 7;
    apr_status_t rv;
    apr_time_t t0;
    double secs;

    t0 = apr_time_now();
    rv = cnca_store_get(&val, &len, &cas, store, p, key);
    secs = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    is_int(rv, APR_EGENERAL, apr_psprintf(p, "%s: get is APR_EGENERAL, not NOTFOUND", when));
    ok(secs < 2.5, apr_psprintf(p, "%s: get fails within 2.5 s (%.2f s)", when, secs));
    ok(val == NULL, apr_psprintf(p, "%s: no value", when));

    t0 = apr_time_now();
    rv = cnca_store_set(store, key, "v", 1, 60);
    secs = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    is_int(rv, APR_EGENERAL, apr_psprintf(p, "%s: set is APR_EGENERAL", when));
    ok(secs < 2.5, apr_psprintf(p, "%s: set fails within 2.5 s (%.2f s)", when, secs));

    is_int(cnca_store_add(store, key, "v", 1, 60), APR_EGENERAL,
           apr_psprintf(p, "%s: add is APR_EGENERAL (not EEXIST)", when));
    is_int(cnca_store_cas(store, key, "v", 1, 60, 1), APR_EGENERAL,
           apr_psprintf(p, "%s: cas is APR_EGENERAL (not EEXIST/NOTFOUND)", when));
    is_int(cnca_store_delete(store, key), APR_EGENERAL,
           apr_psprintf(p, "%s: delete is APR_EGENERAL", when));
}

static void test_down_and_back(void)
{
    apr_pool_t *p = tap_pool();
    const char *key = key_for(p, "down");
    char *val;
    apr_size_t len;
    apr_status_t rv = APR_EGENERAL;
    apr_time_t t0;
    int lines;

    cnca_store_set(store, key, "before", 6, 60);
    testlib_mc_stop(&mc4, SIGKILL);
    lines = testlib_log_lines;
    fails_closed(p, key, "memcached killed");
    fails_closed(p, key, "memcached still down");
    ok(testlib_log_lines > lines, "failures are logged");
    ok(!strncmp(testlib_log_last, "CNCA00113: memcached delete failed: ",
                strlen("CNCA00113: memcached delete failed: ")),
       "the last failure (the delete) is logged as CNCA00113 with the operation");
    printf("#   last log line: %s\n", testlib_log_last);

    ok(testlib_mc_start(&mc4), "memcached restarted on the same port");
    t0 = apr_time_now();
    while (apr_time_now() - t0 < apr_time_from_sec(10)) {
        rv = cnca_store_set(store, key, "after", 5, 60);
        if (rv == APR_SUCCESS) {
            break;
        }
        apr_sleep(apr_time_from_msec(100));
    }
    is_int(rv, APR_SUCCESS, "set works again after the restart");
    printf("# back after %.2f s\n", (double)(apr_time_now() - t0) / APR_USEC_PER_SEC);
    ok(apr_time_now() - t0 < apr_time_from_sec(5), "back within 5 s");
    rv = cnca_store_get(&val, &len, NULL, store, p, key);
    is_str(rv == APR_SUCCESS ? val : NULL, "after", "get works again after the restart");
    /* every pooled connection recovers, not just the one that was used */
    {
        int i, bad = 0;
        for (i = 0; i < 20; ++i) {
            if (cnca_store_get(&val, &len, NULL, store, p, key) != APR_SUCCESS) {
                ++bad;
            }
        }
        is_int(bad, 0, "20 gets in a row after the restart all succeed");
    }
    cnca_store_delete(store, key);
}

/* nothing ever listened: refused connections are errors, not misses */
static void test_nothing_listening(void)
{
    apr_pool_t *p = tap_pool();
    cnca_store_t *s = NULL;
    char *val;
    apr_size_t len;
    int port = testlib_free_port(AF_INET);
    apr_time_t t0;

    is_int(cnca_store_create(&s, p, apr_psprintf(p, "127.0.0.1:%d", port), 2), APR_SUCCESS,
           "create does not connect yet");
    if (!s) {
        return;
    }
    t0 = apr_time_now();
    is_int(cnca_store_get(&val, &len, NULL, s, p, cnca_store_key(p, "t", "x")), APR_EGENERAL,
           "nothing listening: get is APR_EGENERAL");
    is_int(cnca_store_set(s, cnca_store_key(p, "t", "x"), "v", 1, 60), APR_EGENERAL,
           "nothing listening: set is APR_EGENERAL");
    ok(apr_time_now() - t0 < apr_time_from_sec(3), "nothing listening: fails fast");
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
    test_basic();
    test_cas();
    test_values();
    test_threads();
    test_ipv6();
    test_nothing_listening();
    test_ttl_end();
    test_down_and_back();
    mc_stop_all();
    return tap_done();
}
