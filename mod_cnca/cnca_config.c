#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "cnca_config.h"

static const char *parse_long(long long *pout, apr_pool_t *p, const char *arg, const char *suffixes,
                              const long long *mult)
{
    char *end;
    long long v;
    const char *s;

    if (!arg || !*arg) {
        return "needs a value";
    }
    for (s = arg; *s && apr_isdigit(*s); ++s)
        ;
    if (s == arg) {
        return apr_psprintf(p, "'%s' is not a whole number", arg);
    }
    v = strtoll(arg, &end, 10);
    if (end - arg > 12) {
        return apr_psprintf(p, "'%s' is too large", arg);
    }
    if (*end) {
        const char *hit = suffixes ? strchr(suffixes, apr_tolower(*end)) : NULL;
        if (!hit || end[1]) {
            return apr_psprintf(p, "'%s' is not a whole number%s", arg,
                                suffixes ? " with an optional unit" : "");
        }
        v *= mult[hit - suffixes];
    }
    *pout = v;
    return NULL;
}

static const char *check_range(apr_pool_t *p, long long v, long long min, long long max,
                               const char *arg)
{
    if (v < min || v > max) {
        return apr_psprintf(p, "'%s' is out of range (%lld to %lld)", arg, min, max);
    }
    return NULL;
}

const char *cnca_conf_parse_seconds(int *pout, apr_pool_t *p, const char *arg, int min, int max)
{
    static const long long mult[] = {1, 60, 3600, 86400};
    long long v;
    const char *err = parse_long(&v, p, arg, "smhd", mult);

    if (!err && !(err = check_range(p, v, min, max, arg))) {
        *pout = (int)v;
    }
    return err;
}

const char *cnca_conf_parse_int(int *pout, apr_pool_t *p, const char *arg, int min, int max)
{
    long long v;
    const char *err = parse_long(&v, p, arg, NULL, NULL);

    if (!err && !(err = check_range(p, v, min, max, arg))) {
        *pout = (int)v;
    }
    return err;
}

const char *cnca_conf_parse_bytes(apr_size_t *pout, apr_pool_t *p, const char *arg,
                                  apr_size_t min, apr_size_t max)
{
    static const long long mult[] = {1024, 1024 * 1024};
    long long v;
    const char *err = parse_long(&v, p, arg, "km", mult);

    if (!err && !(err = check_range(p, v, (long long)min, (long long)max, arg))) {
        *pout = (apr_size_t)v;
    }
    return err;
}

const char *cnca_conf_parse_dimensions(int *pw, int *ph, apr_pool_t *p, const char *arg, int max)
{
    const char *x = arg ? strchr(arg, 'x') : NULL;
    const char *err;
    int w, h;

    if (!x) {
        return apr_psprintf(p, "'%s' is not WIDTHxHEIGHT", arg ? arg : "");
    }
    if ((err = cnca_conf_parse_int(&w, p, apr_pstrndup(p, arg, x - arg), 1, max))
        || (err = cnca_conf_parse_int(&h, p, x + 1, 1, max))) {
        return err;
    }
    *pw = w;
    *ph = h;
    return NULL;
}

static int valid_host(const char *h, apr_size_t len)
{
    apr_size_t i;

    if (len == 0 || len > 253) {
        return 0;
    }
    if (h[0] == '[') {
        if (h[len - 1] != ']' || len < 3) {
            return 0;
        }
        for (i = 1; i < len - 1; ++i) {
            if (!apr_isxdigit(h[i]) && h[i] != ':' && h[i] != '.') {
                return 0;
            }
        }
        return 1;
    }
    for (i = 0; i < len; ++i) {
        if (!apr_isalnum(h[i]) && h[i] != '-' && h[i] != '.') {
            return 0;
        }
    }
    return 1;
}

const char *cnca_conf_parse_memcached(const char **pservers, apr_pool_t *p, const char *arg)
{
    char *list, *item, *state;
    const char *out = NULL;

    if (!arg || !*arg) {
        return "needs at least one host:port";
    }
    list = apr_pstrdup(p, arg);
    for (item = apr_strtok(list, ", ", &state); item; item = apr_strtok(NULL, ", ", &state)) {
        char *colon = strrchr(item, ':');
        const char *host = item, *err;
        int port = 11211;
        apr_size_t hlen = strlen(item);

        if (colon && (item[0] != '[' || colon > strchr(item, ']'))) {
            hlen = (apr_size_t)(colon - item);
            if ((err = cnca_conf_parse_int(&port, p, colon + 1, 1, 65535))) {
                return apr_psprintf(p, "port of '%s': %s", item, err);
            }
        }
        if (!valid_host(host, hlen)) {
            return apr_psprintf(p, "'%s' is not a host[:port]", item);
        }
        out = apr_psprintf(p, "%s%s%.*s:%d", out ? out : "", out ? "," : "", (int)hlen, host, port);
    }
    if (!out) {
        return "needs at least one host:port";
    }
    *pservers = out;
    return NULL;
}

const char *cnca_conf_parse_hotline(const char **pout, apr_pool_t *p, const char *arg)
{
    apr_size_t len = arg ? strlen(arg) : 0, i, digits = 0;

    if (len < 3 || len > 20) {
        return "must be 3 to 20 characters of digits, '-' and spaces";
    }
    for (i = 0; i < len; ++i) {
        if (apr_isdigit(arg[i])) {
            ++digits;
        }
        else if (arg[i] != '-' && arg[i] != ' ') {
            return apr_psprintf(p, "'%s' may hold only digits, '-' and spaces", arg);
        }
    }
    if (digits < 3) {
        return apr_psprintf(p, "'%s' needs at least 3 digits", arg);
    }
    *pout = apr_pstrdup(p, arg);
    return NULL;
}

const char *cnca_conf_parse_sign_name(const char **pout, apr_pool_t *p, const char *arg)
{
    apr_size_t len = arg ? strlen(arg) : 0, i, chars = 0;

    if (len == 0 || len > 48) {
        return "must be 2 to 12 characters";
    }
    for (i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)arg[i];
        if (c < 0x20 || c == 0x7f) {
            return "must not hold control characters";
        }
        if ((c & 0xc0) != 0x80) {
            ++chars;
        }
    }
    if (strstr(arg, "【") || strstr(arg, "】")) {
        return "is given without the 【】 brackets, which the SMS text adds";
    }
    if (chars < 2 || chars > 12) {
        return "must be 2 to 12 characters";
    }
    *pout = apr_pstrdup(p, arg);
    return NULL;
}

const char *cnca_conf_parse_url(const char **pout, apr_pool_t *p, const char *arg)
{
    apr_uri_t uri;

    if (!arg || apr_uri_parse(p, arg, &uri) != APR_SUCCESS || !uri.scheme || !uri.hostname
        || (strcmp(uri.scheme, "http") && strcmp(uri.scheme, "https"))) {
        return apr_psprintf(p, "'%s' is not an absolute http:// or https:// URL", arg ? arg : "");
    }
    *pout = apr_pstrdup(p, arg);
    return NULL;
}

const char *cnca_conf_parse_path_prefix(const char **pout, apr_pool_t *p, const char *arg)
{
    apr_size_t len = arg ? strlen(arg) : 0, i;

    if (len == 0 || arg[0] != '/' || arg[len - 1] != '/') {
        return apr_psprintf(p, "'%s' must be a path that starts and ends with '/'",
                            arg ? arg : "");
    }
    for (i = 0; i < len; ++i) {
        if ((unsigned char)arg[i] <= 0x20 || arg[i] == '"' || arg[i] == '<' || arg[i] == '>'
            || arg[i] == '\\' || arg[i] == '?' || arg[i] == '#') {
            return apr_psprintf(p, "'%s' is not a clean URL path", arg);
        }
    }
    *pout = apr_pstrdup(p, arg);
    return NULL;
}
