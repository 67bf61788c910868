/* Parsing of directive values, httpd-free so that unit tests cover every
 * bad value. Each parser returns NULL on success or a message that the glue
 * prefixes with the directive's name. */
#ifndef CNCA_CONFIG_H
#define CNCA_CONFIG_H

#include <apr_pools.h>
#include <apr_tables.h>

/* A whole number of seconds in [min, max]: "900", "15m", "2h", "1d". */
const char *cnca_conf_parse_seconds(int *pout, apr_pool_t *p, const char *arg, int min, int max);

/* A whole number in [min, max]. */
const char *cnca_conf_parse_int(int *pout, apr_pool_t *p, const char *arg, int min, int max);

/* A byte size in [min, max]: "2097152", "512K", "2M". */
const char *cnca_conf_parse_bytes(apr_size_t *pout, apr_pool_t *p, const char *arg, apr_size_t min,
                                  apr_size_t max);

/* "WxH", each in [1, max]. */
const char *cnca_conf_parse_dimensions(int *pw, int *ph, apr_pool_t *p, const char *arg, int max);

/* memcached servers, comma-separated: "host:port" (host a name, IPv4 or
 * [IPv6]; port 1-65535, default 11211) or an absolute unix socket path
 * "/path" (at most 107 bytes). On success *pservers holds the list
 * normalised for cnca_store_create(). */
const char *cnca_conf_parse_memcached(const char **pservers, apr_pool_t *p, const char *arg);

/* A hotline: digits with optional '-' and spaces, 3 to 20 characters. */
const char *cnca_conf_parse_hotline(const char **pout, apr_pool_t *p, const char *arg);

/* SMS sign name: 2 to 12 characters of text, no 【】 brackets or controls. */
const char *cnca_conf_parse_sign_name(const char **pout, apr_pool_t *p, const char *arg);

/* An absolute http(s) URL. */
const char *cnca_conf_parse_url(const char **pout, apr_pool_t *p, const char *arg);

/* A URL path that starts and ends with '/'. */
const char *cnca_conf_parse_path_prefix(const char **pout, apr_pool_t *p, const char *arg);

#endif
