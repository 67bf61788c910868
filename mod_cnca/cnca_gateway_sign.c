/* Gateway message signing: the shared secret file and HMAC-SHA256 over
 * "timestamp\nbody" (API.md, "Gateway protocol"). */
#include <string.h>

#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "cnca_crypto.h"
#include "cnca_gateway.h"

/* A secret file is a line of text; anything much longer is a wrong path. */
#define SECRET_FILE_MAX 4096

apr_status_t cnca_gw_secret_load(const unsigned char **psecret, apr_size_t *plen, const char **pmsg,
                                 apr_pool_t *p, const char *path)
{
    apr_file_t *f = NULL;
    char *buf = apr_palloc(p, SECRET_FILE_MAX + 1);
    apr_size_t len = 0, start = 0;
    apr_status_t rv;

    *psecret = NULL;
    *plen = 0;
    *pmsg = NULL;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *pmsg = apr_psprintf(p, "cannot open %s", path);
        goto leave;
    }
    rv = apr_file_read_full(f, buf, SECRET_FILE_MAX + 1, &len);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *pmsg = apr_psprintf(p, "cannot read %s", path);
        goto leave;
    }
    rv = APR_SUCCESS;
    if (len > SECRET_FILE_MAX) {
        rv = APR_EINVAL;
        *pmsg = apr_psprintf(p, "%s is longer than %d bytes", path, SECRET_FILE_MAX);
        goto leave;
    }
    while (start < len && apr_isspace(buf[start])) {
        ++start;
    }
    while (len > start && apr_isspace(buf[len - 1])) {
        --len;
    }
    if (len - start < CNCA_GW_SECRET_MIN) {
        rv = APR_EINVAL;
        *pmsg = apr_psprintf(p, "the secret in %s is shorter than %d characters", path,
                             CNCA_GW_SECRET_MIN);
        goto leave;
    }
    buf[len] = '\0';
    *psecret = (const unsigned char *)buf + start;
    *plen = len - start;
leave:
    if (f) {
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        memset(buf, 0, SECRET_FILE_MAX + 1);
    }
    return rv;
}

const char *cnca_gw_signature(apr_pool_t *p, const unsigned char *secret, apr_size_t secret_len,
                              const char *timestamp, const char *body, apr_size_t body_len)
{
    apr_size_t ts_len = strlen(timestamp);
    char *msg = apr_palloc(p, ts_len + 1 + body_len);

    memcpy(msg, timestamp, ts_len);
    msg[ts_len] = '\n';
    if (body_len) {
        memcpy(msg + ts_len + 1, body, body_len);
    }
    return cnca_hmac_hex(p, secret, secret_len, msg, ts_len + 1 + body_len);
}

int cnca_gw_signature_ok(apr_pool_t *p, const unsigned char *secret, apr_size_t secret_len,
                         const char *timestamp, const char *signature, const char *body,
                         apr_size_t body_len, apr_time_t now)
{
    apr_int64_t ts, skew;
    char *given, *c;
    const char *s;

    if (!timestamp || !signature || !*timestamp || strlen(timestamp) > 12) {
        return 0;
    }
    for (s = timestamp; *s; ++s) {
        if (!apr_isdigit(*s)) {
            return 0;
        }
    }
    ts = apr_atoi64(timestamp);
    skew = (apr_int64_t)apr_time_sec(now) - ts;
    if (skew > CNCA_GW_MAX_SKEW || skew < -CNCA_GW_MAX_SKEW) {
        return 0;
    }
    given = apr_pstrdup(p, signature);
    for (c = given; *c; ++c) {
        *c = (char)apr_tolower(*c);
    }
    return cnca_str_equal_ct(given,
                             cnca_gw_signature(p, secret, secret_len, timestamp, body, body_len));
}
