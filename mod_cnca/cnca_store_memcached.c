#include <string.h>

#include <apr_strings.h>
#include <libmemcached/memcached.h>
#include <libmemcachedutil-1.0/pool.h>
#include <openssl/sha.h>

#include "cnca_crypto.h"
#include "cnca_log.h"
#include "cnca_store.h"

struct cnca_store {
    memcached_st *proto;
    memcached_pool_st *pool;
};

static apr_status_t store_cleanup(void *data)
{
    cnca_store_t *store = data;
    if (store->pool) {
        memcached_pool_destroy(store->pool);
        store->pool = NULL;
    }
    if (store->proto) {
        memcached_free(store->proto);
        store->proto = NULL;
    }
    return APR_SUCCESS;
}

/* Adds the servers of list (as cnca_conf_parse_memcached normalises it:
 * "host:port" and "/path/to/socket" items, comma-separated) in their order,
 * which the key distribution follows. memcached_servers_parse would take a
 * socket path for a host name, so a path goes through
 * memcached_server_add_unix_socket. */
static memcached_return_t add_servers(memcached_st *mc, apr_pool_t *p, const char *list)
{
    char *items = apr_pstrdup(p, list), *item, *state;
    memcached_return_t rc = MEMCACHED_SUCCESS;

    for (item = apr_strtok(items, ", ", &state); item && rc == MEMCACHED_SUCCESS;
         item = apr_strtok(NULL, ", ", &state)) {
        if (item[0] == '/') {
            rc = memcached_server_add_unix_socket(mc, item);
        } else {
            memcached_server_st *one = memcached_servers_parse(item);
            rc = one ? memcached_server_push(mc, one) : MEMCACHED_INVALID_ARGUMENTS;
            if (one) {
                memcached_server_list_free(one);
            }
        }
    }
    return rc;
}

apr_status_t cnca_store_create(cnca_store_t **pstore, apr_pool_t *p, const char *servers,
                               int pool_max)
{
    cnca_store_t *store = apr_pcalloc(p, sizeof(*store));
    memcached_return_t rc;
    apr_status_t rv = APR_EGENERAL;

    *pstore = NULL;
    apr_pool_cleanup_register(p, store, store_cleanup, apr_pool_cleanup_null);
    if (!(store->proto = memcached_create(NULL))) {
        goto leave;
    }
    if ((rc = add_servers(store->proto, p, servers ? servers : "")) != MEMCACHED_SUCCESS ||
        memcached_server_count(store->proto) == 0) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00111: cannot use memcached servers '%s'", servers ? servers : "");
        goto leave;
    }
    memcached_behavior_set(store->proto, MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1);
    /* libmemcached sets socket options (TCP_NODELAY, SO_SNDTIMEO...) on TCP
     * connections only; a unix socket is made non-blocking and waited on
     * with poll() under POLL_TIMEOUT like a TCP one */
    memcached_behavior_set(store->proto, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
    memcached_behavior_set(store->proto, MEMCACHED_BEHAVIOR_NO_BLOCK, 1);
    memcached_behavior_set(store->proto, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 1000);
    memcached_behavior_set(store->proto, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 1000);
    memcached_behavior_set(store->proto, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, 1000000);
    memcached_behavior_set(store->proto, MEMCACHED_BEHAVIOR_SND_TIMEOUT, 1000000);
    /* never mark a server dead for a while: a restarted memcached is used
     * by the very next request (a local connect to a dead one fails fast).
     * libmemcached puts a server whose connection failed in a timeout
     * until the wall-clock second after now + RETRY_TIMEOUT (with 0 still
     * up to a second in which every request fails at once) when it has
     * failed SERVER_TIMEOUT_LIMIT times (default 0: at the first failure);
     * a limit that is never reached keeps it out of that timeout. (A
     * SERVER_FAILURE_LIMIT of 0 is refused by libmemcached.) */
    memcached_behavior_set(store->proto, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 0);
    memcached_behavior_set(store->proto, MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, 0);
    memcached_behavior_set(store->proto, MEMCACHED_BEHAVIOR_SERVER_TIMEOUT_LIMIT, UINT32_MAX);
    if (!(store->pool = memcached_pool_create(store->proto, 1, pool_max > 0 ? pool_max : 16))) {
        goto leave;
    }
    *pstore = store;
    rv = APR_SUCCESS;
leave:
    return rv;
}

const char *cnca_store_key(apr_pool_t *p, const char *kind, const char *name)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)name, strlen(name), md);
    return apr_pstrcat(p, "cnca:", kind, ":", cnca_hex(p, md, sizeof(md)), NULL);
}

static memcached_st *fetch(cnca_store_t *store)
{
    struct timespec wait = {1, 0};
    memcached_return_t rc;
    memcached_st *mc = memcached_pool_fetch(store->pool, &wait, &rc);

    if (!mc) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL,
                        "CNCA00112: no memcached connection free in the pool: %s",
                        memcached_strerror(NULL, rc));
    }
    return mc;
}

/* A pooled connection that broke (memcached restarted) fails once; the
 * operation is worth one more try, on a fresh connection. */
static int is_connection_error(memcached_return_t rc)
{
    switch (rc) {
        case MEMCACHED_CONNECTION_FAILURE:
        case MEMCACHED_CONNECTION_SOCKET_CREATE_FAILURE:
        case MEMCACHED_WRITE_FAILURE:
        case MEMCACHED_READ_FAILURE:
        case MEMCACHED_UNKNOWN_READ_FAILURE:
        case MEMCACHED_ERRNO:
        case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
        case MEMCACHED_SERVER_MARKED_DEAD:
        case MEMCACHED_TIMEOUT:
            return 1;
        default:
            return 0;
    }
}

static apr_status_t fail(memcached_st *mc, memcached_return_t rc, const char *op)
{
    cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL, "CNCA00113: memcached %s failed: %s",
                    op,
                    memcached_last_error_message(mc) ? memcached_last_error_message(mc)
                                                     : memcached_strerror(mc, rc));
    return APR_EGENERAL;
}

/* One get: mget then fetch (a broken connection shows only at the fetch). */
static memcached_return_t get_once(memcached_st *mc, const char *key, char **pval, apr_size_t *plen,
                                   uint64_t *pcas, apr_pool_t *p)
{
    const char *keys[1] = {key};
    size_t klen[1] = {strlen(key)};
    memcached_result_st *res;
    memcached_return_t rc;

    rc = memcached_mget(mc, keys, klen, 1);
    if (rc != MEMCACHED_SUCCESS) {
        return rc;
    }
    res = memcached_fetch_result(mc, NULL, &rc);
    if (!res) {
        return (rc == MEMCACHED_END || rc == MEMCACHED_SUCCESS) ? MEMCACHED_NOTFOUND : rc;
    }
    *plen = memcached_result_length(res);
    *pval = apr_palloc(p, *plen + 1);
    memcpy(*pval, memcached_result_value(res), *plen);
    (*pval)[*plen] = '\0';
    if (pcas) {
        *pcas = memcached_result_cas(res);
    }
    memcached_result_free(res);
    /* drain the end of the answer */
    while ((res = memcached_fetch_result(mc, NULL, &rc))) {
        memcached_result_free(res);
    }
    return MEMCACHED_SUCCESS;
}

apr_status_t cnca_store_get(char **pval, apr_size_t *plen, uint64_t *pcas, cnca_store_t *store,
                            apr_pool_t *p, const char *key)
{
    memcached_st *mc;
    memcached_return_t rc;
    apr_status_t rv;

    *pval = NULL;
    *plen = 0;
    if (pcas) {
        *pcas = 0;
    }
    if (!(mc = fetch(store))) {
        return APR_EGENERAL;
    }
    rc = get_once(mc, key, pval, plen, pcas, p);
    if (is_connection_error(rc)) {
        memcached_quit(mc);
        rc = get_once(mc, key, pval, plen, pcas, p);
    }
    if (rc == MEMCACHED_SUCCESS) {
        rv = APR_SUCCESS;
    } else if (rc == MEMCACHED_NOTFOUND) {
        rv = APR_NOTFOUND;
    } else {
        rv = fail(mc, rc, "get");
    }
    memcached_pool_release(store->pool, mc);
    return rv;
}

typedef memcached_return_t store_fn(memcached_st *, const char *, size_t, const char *, size_t,
                                    time_t, uint32_t);

static apr_status_t store_op(cnca_store_t *store, store_fn *fn, const char *op, const char *key,
                             const char *val, apr_size_t len, int ttl)
{
    memcached_st *mc;
    memcached_return_t rc;
    apr_status_t rv;

    if (!(mc = fetch(store))) {
        return APR_EGENERAL;
    }
    rc = fn(mc, key, strlen(key), val, len, (time_t)ttl, 0);
    if (is_connection_error(rc)) {
        memcached_quit(mc);
        rc = fn(mc, key, strlen(key), val, len, (time_t)ttl, 0);
        if (rc == MEMCACHED_NOTSTORED && fn == (store_fn *)memcached_add) {
            /* keys are random: what is there is the first try's write */
            rc = MEMCACHED_SUCCESS;
        }
    }
    if (rc == MEMCACHED_SUCCESS) {
        rv = APR_SUCCESS;
    } else if (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS) {
        rv = APR_EEXIST;
    } else {
        rv = fail(mc, rc, op);
    }
    memcached_pool_release(store->pool, mc);
    return rv;
}

apr_status_t cnca_store_set(cnca_store_t *store, const char *key, const char *val, apr_size_t len,
                            int ttl)
{
    return store_op(store, memcached_set, "set", key, val, len, ttl);
}

apr_status_t cnca_store_add(cnca_store_t *store, const char *key, const char *val, apr_size_t len,
                            int ttl)
{
    return store_op(store, memcached_add, "add", key, val, len, ttl);
}

apr_status_t cnca_store_cas(cnca_store_t *store, const char *key, const char *val, apr_size_t len,
                            int ttl, uint64_t cas)
{
    memcached_st *mc;
    memcached_return_t rc;
    apr_status_t rv;

    if (!(mc = fetch(store))) {
        return APR_EGENERAL;
    }
    rc = memcached_cas(mc, key, strlen(key), val, len, (time_t)ttl, 0, cas);
    if (is_connection_error(rc)) {
        memcached_quit(mc);
        rc = memcached_cas(mc, key, strlen(key), val, len, (time_t)ttl, 0, cas);
    }
    if (rc == MEMCACHED_SUCCESS) {
        rv = APR_SUCCESS;
    } else if (rc == MEMCACHED_DATA_EXISTS) {
        rv = APR_EEXIST;
    } else if (rc == MEMCACHED_NOTFOUND) {
        rv = APR_NOTFOUND;
    } else {
        rv = fail(mc, rc, "cas");
    }
    memcached_pool_release(store->pool, mc);
    return rv;
}

apr_status_t cnca_store_delete(cnca_store_t *store, const char *key)
{
    memcached_st *mc;
    memcached_return_t rc;
    apr_status_t rv = APR_SUCCESS;

    if (!(mc = fetch(store))) {
        return APR_EGENERAL;
    }
    rc = memcached_delete(mc, key, strlen(key), 0);
    if (is_connection_error(rc)) {
        memcached_quit(mc);
        rc = memcached_delete(mc, key, strlen(key), 0);
    }
    if (rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND) {
        rv = fail(mc, rc, "delete");
    }
    memcached_pool_release(store->pool, mc);
    return rv;
}
