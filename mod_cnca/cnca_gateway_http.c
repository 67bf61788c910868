/* The gateway client: a pool of libcurl easy handles per httpd child (each
 * keeps its connections alive), one signed POST per call, the answer read
 * with a size cap and validated. Any doubt is an error, never a pass. */
#include <stdlib.h>
#include <string.h>

#include <apr_reslist.h>
#include <apr_strings.h>

#include <curl/curl.h>

#include "cnca_gateway.h"
#include "cnca_log.h"

/* Handles kept idle per child; more are made under load and dropped after. */
#define HANDLES_KEEP 16
#define HANDLES_MAX 1024

struct cnca_gw_client {
    const char *url;
    const unsigned char *secret;
    apr_size_t secret_len;
    long timeout_ms;
    cnca_gw_schema_t *schema;
    apr_reslist_t *handles;
};

typedef struct {
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
} gw_handle_t;

/* The answer body as it arrives. */
typedef struct {
    char *buf;
    apr_size_t len;
    int overflow;
} gw_body_t;

static size_t body_write(char *data, size_t size, size_t nmemb, void *baton)
{
    gw_body_t *b = baton;
    size_t n = size * nmemb;

    if (n > CNCA_GW_MAX_BODY - b->len) {
        b->overflow = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    return n;
}

/* Options every call shares, set once per handle. */
static apr_status_t handle_make(void **pres, void *params, apr_pool_t *pool)
{
    cnca_gw_client_t *c = params;
    gw_handle_t *h;
    CURLcode cc = CURLE_OK;

    (void)pool;
    *pres = NULL;
    h = calloc(1, sizeof(*h));
    if (!h) {
        return APR_ENOMEM;
    }
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return APR_ENOMEM;
    }
#define SET(opt, val)                                                                              \
    if (cc == CURLE_OK)                                                                            \
    cc = curl_easy_setopt(h->curl, opt, val)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, h->errbuf);
    SET(CURLOPT_URL, c->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_USERAGENT, "mod_cnca");
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CNCA_GW_MAX_BODY);
    SET(CURLOPT_WRITEFUNCTION, body_write);
#undef SET
    if (cc != CURLE_OK) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EGENERAL,
                        "CNCA00510: cannot set up a gateway connection handle: %s",
                        curl_easy_strerror(cc));
        curl_easy_cleanup(h->curl);
        free(h);
        return APR_EGENERAL;
    }
    *pres = h;
    return APR_SUCCESS;
}

static apr_status_t handle_drop(void *res, void *params, apr_pool_t *pool)
{
    gw_handle_t *h = res;

    (void)params;
    (void)pool;
    curl_easy_cleanup(h->curl);
    free(h);
    return APR_SUCCESS;
}

apr_status_t cnca_gw_client_create(cnca_gw_client_t **pc, apr_pool_t *p, const char *url,
                                   const unsigned char *secret, apr_size_t secret_len,
                                   apr_interval_time_t timeout, cnca_gw_schema_t *schema)
{
    cnca_gw_client_t *c;
    apr_status_t rv;

    *pc = NULL;
    if (!url || (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) || !secret ||
        secret_len == 0 || timeout <= 0 || !schema) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, APR_EINVAL,
                        "CNCA00511: gateway client needs an http(s) URL, a secret, a timeout "
                        "and the schema");
        return APR_EINVAL;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->url = apr_pstrdup(p, url);
    c->secret = apr_pmemdup(p, secret, secret_len);
    c->secret_len = secret_len;
    c->timeout_ms = (long)apr_time_as_msec(timeout);
    if (c->timeout_ms < 1) {
        c->timeout_ms = 1;
    }
    c->schema = schema;
    /* The list frees its handles when p goes (apr_reslist_create registers
     * that cleanup itself). */
    rv = apr_reslist_create(&c->handles, 0, HANDLES_KEEP, HANDLES_MAX, 0, handle_make, handle_drop,
                            c, p);
    if (rv != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00512: cannot create the gateway connection pool");
        return rv;
    }
    apr_reslist_timeout_set(c->handles, timeout);
    *pc = c;
    return APR_SUCCESS;
}

/* POSTs body with the signature headers; *pbody gets the answer of a 2xx. */
static apr_status_t post(gw_body_t *answer, const char **pcause, cnca_gw_client_t *c, apr_pool_t *p,
                         const char *xml)
{
    gw_handle_t *h = NULL;
    struct curl_slist *headers = NULL, *more;
    const char *ts, *sig;
    apr_size_t len = strlen(xml);
    long status = 0;
    CURLcode cc;
    apr_status_t rv;

    answer->buf = apr_palloc(p, CNCA_GW_MAX_BODY);
    answer->len = 0;
    answer->overflow = 0;
    ts = apr_psprintf(p, "%" APR_TIME_T_FMT, apr_time_sec(apr_time_now()));
    sig = cnca_gw_signature(p, c->secret, c->secret_len, ts, xml, len);
    const char *lines[] = {
        "Content-Type: " CNCA_GW_CONTENT_TYPE,
        "Accept: application/xml",
        "Expect:",
        apr_pstrcat(p, CNCA_GW_HEADER_TIMESTAMP ": ", ts, NULL),
        apr_pstrcat(p, CNCA_GW_HEADER_SIGNATURE ": ", sig, NULL),
    };
    for (apr_size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); ++i) {
        more = curl_slist_append(headers, lines[i]);
        if (!more) {
            rv = APR_ENOMEM;
            *pcause = "out of memory";
            goto leave;
        }
        headers = more;
    }

    rv = apr_reslist_acquire(c->handles, (void **)&h);
    if (rv != APR_SUCCESS) {
        h = NULL;
        *pcause = APR_STATUS_IS_TIMEUP(rv) ? "no free connection within the timeout"
                                           : "no connection handle";
        goto leave;
    }
    h->errbuf[0] = '\0';
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, xml);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, answer);
    cc = curl_easy_perform(h->curl);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    }
    /* Nothing of this call may outlive it in the handle. */
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, NULL);

    if (cc == CURLE_OPERATION_TIMEDOUT) {
        rv = APR_TIMEUP;
        *pcause = apr_psprintf(p, "no answer within %ld ms", c->timeout_ms);
    } else if (answer->overflow || cc == CURLE_FILESIZE_EXCEEDED) {
        rv = APR_EGENERAL;
        *pcause = apr_psprintf(p, "answer larger than %d bytes", CNCA_GW_MAX_BODY);
    } else if (cc != CURLE_OK) {
        rv = APR_EGENERAL;
        *pcause =
            apr_psprintf(p, "%s%s%s", curl_easy_strerror(cc), h->errbuf[0] ? ": " : "", h->errbuf);
    } else if (status < 200 || status > 299) {
        rv = APR_EGENERAL;
        *pcause = apr_psprintf(p, "HTTP status %ld", status);
    }
leave:
    if (h) {
        apr_reslist_release(c->handles, h);
    }
    curl_slist_free_all(headers);
    return rv;
}

apr_status_t cnca_gw_call(cnca_gw_response_t **presp, const char **pcause, cnca_gw_client_t *c,
                          apr_pool_t *p, const char *type, const char *const *kv)
{
    cnca_gw_response_t *resp = NULL;
    const char *xml, *id, *cause = NULL;
    gw_body_t answer;
    apr_status_t rv;

    *presp = NULL;
    *pcause = NULL;
    rv = cnca_gw_build_request(&xml, &id, p, type, kv);
    if (rv != APR_SUCCESS) {
        cause = "cannot build the request";
        goto leave;
    }
    rv = post(&answer, &cause, c, p, xml);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = cnca_gw_parse_response(&resp, &cause, p, answer.buf, answer.len, id, c->schema);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = cnca_gw_check_response(&cause, p, type, resp);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    *presp = resp;
leave:
    if (rv != APR_SUCCESS) {
        *pcause = cause ? cause : "unknown error";
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv, "CNCA00513: gateway %s failed: %s",
                        type ? type : "(null)", *pcause);
    }
    return rv;
}
