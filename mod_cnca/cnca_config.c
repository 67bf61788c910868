#include <stdlib.h>
#include <string.h>

#include <sys/un.h>

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
        return apr_psprintf(p,
                            "'%s' is out of range (%" APR_INT64_T_FMT " to %" APR_INT64_T_FMT ")",
                            arg, (apr_int64_t)min, (apr_int64_t)max);
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

const char *cnca_conf_parse_bytes(apr_size_t *pout, apr_pool_t *p, const char *arg, apr_size_t min,
                                  apr_size_t max)
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
    if ((err = cnca_conf_parse_int(&w, p, apr_pstrndup(p, arg, x - arg), 1, max)) ||
        (err = cnca_conf_parse_int(&h, p, x + 1, 1, max))) {
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

/* The longest path a unix domain socket may have (sun_path less its NUL). */
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* An item that starts with '/': the path of memcached's unix domain socket. */
static const char *check_socket_path(apr_pool_t *p, const char *item)
{
    apr_size_t len = strlen(item), i;

    for (i = 0; i < len; ++i) {
        if ((unsigned char)item[i] < 0x20 || item[i] == 0x7f) {
            return apr_psprintf(p, "socket path '%s' holds a control character", item);
        }
    }
    if (item[len - 1] == '/') {
        return apr_psprintf(p, "'%s' names a folder, not a socket", item);
    }
    if (len > SOCKET_PATH_MAX) {
        return apr_psprintf(p, "socket path '%s' is longer than %d bytes", item,
                            (int)SOCKET_PATH_MAX);
    }
    return NULL;
}

const char *cnca_conf_parse_memcached(const char **pservers, apr_pool_t *p, const char *arg)
{
    static const char none[] = "needs at least one host:port or /path/to/socket";
    char *list, *item, *state;
    const char *out = NULL;

    if (!arg || !*arg) {
        return none;
    }
    list = apr_pstrdup(p, arg);
    for (item = apr_strtok(list, ", ", &state); item; item = apr_strtok(NULL, ", ", &state)) {
        char *colon = strrchr(item, ':');
        const char *host = item, *err;
        int port = 11211;
        apr_size_t hlen = strlen(item);

        if (item[0] == '/') {
            if ((err = check_socket_path(p, item))) {
                return err;
            }
            out = apr_pstrcat(p, out ? out : "", out ? "," : "", item, NULL);
            continue;
        }
        if (strchr(item, '/')) {
            return apr_psprintf(p,
                                "'%s' is a relative socket path: it must start with '/' (and "
                                "cannot hold spaces or commas)",
                                item);
        }
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
        return none;
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
        } else if (arg[i] != '-' && arg[i] != ' ') {
            return apr_psprintf(p, "'%s' may hold only digits, '-' and spaces", arg);
        }
    }
    if (digits < 3) {
        return apr_psprintf(p, "'%s' needs at least 3 digits", arg);
    }
    *pout = apr_pstrdup(p, arg);
    return NULL;
}

/* Decodes one UTF-8 sequence at s (strict: no overlong forms, surrogates
 * or values past U+10FFFF); its length, or 0 when invalid. */
static int utf8_next(const unsigned char *s, apr_size_t left, unsigned long *pcp)
{
    int n, i;
    unsigned long cp;

    if (s[0] < 0x80) {
        *pcp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if ((apr_size_t)n > left) {
        return 0;
    }
    for (i = 1; i < n; ++i) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;
    }
    *pcp = cp;
    return n;
}

const char *cnca_conf_parse_sign_name(const char **pout, apr_pool_t *p, const char *arg)
{
    apr_size_t len = arg ? strlen(arg) : 0, i, chars = 0;

    if (len == 0 || len > 48) {
        return "must be 2 to 12 characters";
    }
    if (apr_isspace(arg[0]) || apr_isspace(arg[len - 1])) {
        return "must not start or end with a space";
    }
    for (i = 0; i < len;) {
        unsigned long cp;
        int n = utf8_next((const unsigned char *)arg + i, len - i, &cp);
        if (!n) {
            return "is not valid UTF-8";
        }
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            return "must not hold control characters";
        }
        i += (apr_size_t)n;
        ++chars;
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

    int port;

    if (!arg || apr_uri_parse(p, arg, &uri) != APR_SUCCESS || !uri.scheme || !uri.hostname ||
        !*uri.hostname || (strcasecmp(uri.scheme, "http") && strcasecmp(uri.scheme, "https"))) {
        return apr_psprintf(p, "'%s' is not an absolute http:// or https:// URL", arg ? arg : "");
    }
    if (!valid_host(uri.hostname, strlen(uri.hostname)) &&
        !(strchr(uri.hostname, ':') &&
          valid_host(apr_pstrcat(p, "[", uri.hostname, "]", NULL), strlen(uri.hostname) + 2))) {
        return apr_psprintf(p, "'%s' has an invalid host", arg);
    }
    if (uri.port_str && cnca_conf_parse_int(&port, p, uri.port_str, 1, 65535)) {
        return apr_psprintf(p, "'%s' has an invalid port", arg);
    }
    *pout = apr_pstrdup(p, arg);
    return NULL;
}

const char *cnca_conf_parse_path_prefix(const char **pout, apr_pool_t *p, const char *arg)
{
    apr_size_t len = arg ? strlen(arg) : 0, i;

    if (len == 0 || arg[0] != '/' || arg[len - 1] != '/') {
        return apr_psprintf(p, "'%s' must be a path that starts and ends with '/'", arg ? arg : "");
    }
    for (i = 0; i < len; ++i) {
        if ((unsigned char)arg[i] <= 0x20 || arg[i] == '"' || arg[i] == '<' || arg[i] == '>' ||
            arg[i] == '\\' || arg[i] == '?' || arg[i] == '#') {
            return apr_psprintf(p, "'%s' is not a clean URL path", arg);
        }
    }
    *pout = apr_pstrdup(p, arg);
    return NULL;
}
