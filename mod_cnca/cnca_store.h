/* Short-lived state in memcached (sessions, with everything a flow holds):
 * get/set/cas/delete with namespaced, hashed keys, through a libmemcached
 * connection pool made once per process. A dead or unreachable memcached is
 * APR_EGENERAL, never "not found". */
#ifndef CNCA_STORE_H
#define CNCA_STORE_H

#include <stdint.h>

#include <apr_pools.h>
#include <apr_errno.h>

typedef struct cnca_store cnca_store_t;

/* servers: comma-separated "host:port" or "/path/to/socket" items;
 * pool_max connections per process. */
apr_status_t cnca_store_create(cnca_store_t **pstore, apr_pool_t *p, const char *servers,
                               int pool_max);

/* The memcached key for (kind, name): "cnca:KIND:" + hex SHA-256 of name, so
 * that a cookie value or a mobile never appears in memcached as it is. */
const char *cnca_store_key(apr_pool_t *p, const char *kind, const char *name);

/* APR_SUCCESS with the value (NUL-terminated) and its CAS, APR_NOTFOUND when
 * absent, APR_EGENERAL when memcached fails. */
apr_status_t cnca_store_get(char **pval, apr_size_t *plen, uint64_t *pcas, cnca_store_t *store,
                            apr_pool_t *p, const char *key);

apr_status_t cnca_store_set(cnca_store_t *store, const char *key, const char *val, apr_size_t len,
                            int ttl);

/* Stores only when absent: APR_EEXIST when the key is there. */
apr_status_t cnca_store_add(cnca_store_t *store, const char *key, const char *val, apr_size_t len,
                            int ttl);

/* Stores only when nobody wrote since the get that returned cas: APR_EEXIST
 * on a conflict, APR_NOTFOUND when the key has gone. */
apr_status_t cnca_store_cas(cnca_store_t *store, const char *key, const char *val, apr_size_t len,
                            int ttl, uint64_t cas);

/* Deleting a key that is not there succeeds. */
apr_status_t cnca_store_delete(cnca_store_t *store, const char *key);

#endif
