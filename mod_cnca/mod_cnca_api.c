/* The cnca-api handler: one route table, one function per step. This file
 * holds the dispatch and what every step shares: the session cookie, CSRF,
 * JSON in and out, security headers, audit rows. */
#include "mod_cnca.h"

#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_cookies.h>

#include "cnca_audit.h"
#include "cnca_errors.h"
#include "cnca_mask.h"
#include "cnca_person.h"

#define JSON_BODY_MAX 16384

typedef enum { SESSION_CREATE, SESSION_REQUIRED, LOGIN_REQUIRED } session_need_t;

typedef enum { BODY_NONE, BODY_JSON, BODY_RAW } body_kind_t;

typedef struct {
    int method;
    const char *route;
    session_need_t need;
    body_kind_t body;
    int (*step)(cnca_api_t *api);
} route_t;

static const route_t routes[] = {
    {M_GET, "/session", SESSION_CREATE, BODY_NONE, cnca_step_session},
    {M_POST, "/logout", SESSION_REQUIRED, BODY_NONE, cnca_step_logout},
    {M_POST, "/apply", SESSION_REQUIRED, BODY_JSON, cnca_step_apply},
    {M_POST, "/login", SESSION_REQUIRED, BODY_JSON, cnca_step_login},
    {M_GET, "/captcha", SESSION_REQUIRED, BODY_NONE, cnca_step_captcha},
    {M_POST, "/sms", SESSION_REQUIRED, BODY_JSON, cnca_step_sms},
    {M_POST, "/verify/mobile", SESSION_REQUIRED, BODY_JSON, cnca_step_verify_mobile},
    {M_POST, "/verify/bank", SESSION_REQUIRED, BODY_JSON, cnca_step_verify_bank},
    {M_POST, "/face/start", SESSION_REQUIRED, BODY_NONE, cnca_step_face_start},
    {M_GET, "/face/return", SESSION_REQUIRED, BODY_NONE, cnca_step_face_return},
    {M_POST, "/confirm", SESSION_REQUIRED, BODY_JSON, cnca_step_confirm},
    {M_GET, "/me", LOGIN_REQUIRED, BODY_NONE, cnca_step_me},
    {M_GET, "/me/certificate.pem", LOGIN_REQUIRED, BODY_NONE, cnca_step_me_certificate},
    {M_GET, "/me/signature.png", LOGIN_REQUIRED, BODY_NONE, cnca_step_me_signature_png},
    {M_POST, "/me/signature", LOGIN_REQUIRED, BODY_RAW, cnca_step_me_signature},
    {M_POST, "/me/mobile", LOGIN_REQUIRED, BODY_JSON, cnca_step_me_mobile},
    {0, NULL, 0, 0, NULL},
};

void cnca_api_headers(request_rec *r, int personal)
{
    apr_table_t *h = r->headers_out;
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
    apr_table_setn(h, "X-Frame-Options", "DENY");
    apr_table_setn(h, "Referrer-Policy", "no-referrer");
    apr_table_setn(h, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    if (personal) {
        apr_table_setn(h, "Cache-Control", "no-store");
        apr_table_setn(h, "Pragma", "no-cache");
    }
}

static const char *cookie_name(cnca_api_t *api)
{
    return api->sc->cookie_secure ? apr_pstrcat(api->r->pool, "__Host-", api->sc->cookie_name, NULL)
                                  : api->sc->cookie_name;
}

void cnca_api_set_cookie(cnca_api_t *api)
{
    const char *value =
        apr_psprintf(api->r->pool, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s", cookie_name(api),
                     api->sess->id, api->sc->cookie_secure ? "; Secure" : "");
    apr_table_add(api->r->err_headers_out, "Set-Cookie", value);
}

static void clear_cookie(cnca_api_t *api)
{
    const char *value =
        apr_psprintf(api->r->pool, "%s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0%s",
                     cookie_name(api), api->sc->cookie_secure ? "; Secure" : "");
    apr_table_add(api->r->err_headers_out, "Set-Cookie", value);
}

/* Writes the session if a step changed it; sets the cookie for a new id. */
apr_status_t cnca_api_session_save(cnca_api_t *api)
{
    cnca_session_t *sess = api->sess;
    apr_status_t rv;
    int was_new;

    if (!sess || (!sess->dirty && !sess->touch_due)) {
        return APR_SUCCESS;
    }
    if (!sess->dirty) {
        /* only the idle timer: a parallel request that wrote meanwhile has
         * refreshed it too, so losing the race is fine */
        rv = cnca_session_save(sess, &api->sc->session_ctx, api->r->pool, api->now);
        return rv == APR_EEXIST ? APR_SUCCESS : rv;
    }
    was_new = sess->is_new;
    rv = cnca_session_save(sess, &api->sc->session_ctx, api->r->pool, api->now);
    if (rv == APR_SUCCESS && was_new) {
        cnca_api_set_cookie(api);
    } else if (rv == APR_EEXIST) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, api->r,
                      "CNCA00020: session changed by a parallel request; answering conflict");
    }
    return rv;
}

static int send_json(cnca_api_t *api, int status, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    api->r->status = status;
    api->responded = 1;
    ap_set_content_type(api->r, "application/json; charset=utf-8");
    ap_rputs(text, api->r);
    free(text);
    return OK;
}

const char *cnca_error_message_for(cnca_api_t *api, const char *code, const char *reason)
{
    return cnca_error_message(api->r->pool, code, api->sc->hotline, reason);
}

static int fail_unsaved(cnca_api_t *api, const char *code, const char *message, json_t *extra)
{
    const cnca_error_t *e = cnca_error_find(code);
    json_t *obj = extra ? extra : json_object();

    json_object_set_new(obj, "ok", json_false());
    json_object_set_new(obj, "error", json_string(code));
    json_object_set_new(obj, "message",
                        json_string(message ? message : cnca_error_message_for(api, code, NULL)));
    return send_json(api, e ? e->status : HTTP_INTERNAL_SERVER_ERROR, obj);
}

int cnca_api_fail(cnca_api_t *api, const char *code, const char *message, json_t *extra)
{
    /* a failure may still change the session (a captcha burnt, a try counted) */
    if (cnca_api_session_save(api) == APR_EGENERAL) {
        json_decref(extra);
        return fail_unsaved(api, "lookup_failed", NULL, NULL);
    }
    return fail_unsaved(api, code, message, extra);
}

int cnca_api_fail_reason(cnca_api_t *api, const char *code, const char *reason)
{
    return cnca_api_fail(api, code, cnca_error_message_for(api, code, reason), NULL);
}

int cnca_api_invalid(cnca_api_t *api, const char *field, const char *message)
{
    json_t *extra = json_object();
    json_object_set_new(extra, "field", json_string(field));
    return cnca_api_fail(api, "invalid_input", message, extra);
}

int cnca_api_ok(cnca_api_t *api, json_t *obj)
{
    apr_status_t rv = cnca_api_session_save(api);

    if (rv == APR_EEXIST) {
        json_decref(obj);
        return fail_unsaved(api, "conflict", NULL, NULL);
    }
    if (rv != APR_SUCCESS) {
        json_decref(obj);
        return fail_unsaved(api, "lookup_failed", NULL, NULL);
    }
    json_object_set_new(obj, "ok", json_true());
    if (api->rotated) {
        /* the new session's token, so the page need not ask again */
        json_object_set_new(obj, "csrf", json_string(api->sess->csrf));
    }
    return send_json(api, HTTP_OK, obj);
}

/* Logs the session in as person_id with a new session id (the old cookie
 * stops working) and sets the cookie. */
apr_status_t cnca_api_login(cnca_api_t *api, apr_int64_t person_id)
{
    apr_status_t rv;

    api->sess->person_id = person_id;
    api->sess->login_at = apr_time_now() + 1;
    rv = cnca_session_rotate(api->sess, &api->sc->session_ctx, api->r->pool, api->now);
    if (rv == APR_SUCCESS) {
        cnca_api_set_cookie(api);
        api->rotated = 1;
    }
    return rv;
}

/* A binary answer (image, PEM), after the session is saved. */
int cnca_api_send(cnca_api_t *api, const char *type, const void *data, apr_size_t len)
{
    apr_status_t rv = cnca_api_session_save(api);

    if (rv != APR_SUCCESS) {
        return fail_unsaved(api, rv == APR_EEXIST ? "conflict" : "lookup_failed", NULL, NULL);
    }
    api->responded = 1;
    ap_set_content_type(api->r, type);
    ap_set_content_length(api->r, (apr_off_t)len);
    ap_rwrite(data, (int)len, api->r);
    return OK;
}

/* 303 to one of the pages (CNCAPagesURL), after the session is saved. */
int cnca_api_redirect(cnca_api_t *api, const char *page, int failed)
{
    const char *url =
        apr_pstrcat(api->r->pool, api->sc->pages_url, page, failed ? "?failed=1" : "", NULL);
    if (cnca_api_session_save(api) != APR_SUCCESS) {
        url = apr_pstrcat(api->r->pool, api->sc->pages_url, "index.html", NULL);
    }
    api->responded = 1;
    apr_table_setn(api->r->headers_out, "Location", ap_construct_url(api->r->pool, url, api->r));
    return HTTP_SEE_OTHER;
}

const char *cnca_api_str(cnca_api_t *api, const char *field)
{
    json_t *v = api->body ? json_object_get(api->body, field) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *cnca_api_subject(cnca_api_t *api)
{
    return api->sess && api->sess->id_number
               ? cnca_person_id_hash(api->r->pool, &api->sc->key_id_hash, api->sess->id_number)
               : NULL;
}

const char *cnca_api_mobile_detail(cnca_api_t *api, const char *mobile)
{
    return apr_pstrcat(api->r->pool, "mobile=", cnca_mask_mobile(api->r->pool, mobile), NULL);
}

void cnca_api_audit(cnca_api_t *api, const char *event, const char *outcome, apr_int64_t person_id,
                    const char *subject, const char *detail)
{
    cnca_audit_t a = {api->now, api->r->useragent_ip, event, outcome, person_id, subject, detail};
    cnca_db_t *db;

    if (cnca_api_db(&db, api) != APR_SUCCESS ||
        cnca_audit_queue_write(api->sc->audit_queue, db, api->r->pool, &a) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, api->r,
                      "CNCA00021: could not write the audit row for %s/%s", event, outcome);
    }
}

apr_status_t cnca_api_read_body(cnca_api_t *api, apr_size_t max, const char **pdata,
                                apr_size_t *plen)
{
    request_rec *r = api->r;
    char *buf;
    apr_size_t len = 0;
    long n;
    int rc;

    *pdata = NULL;
    *plen = 0;
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return APR_EGENERAL;
    }
    if (r->remaining > (apr_off_t)max) {
        return APR_ENOSPC;
    }
    buf = apr_palloc(r->pool, max + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + len, max + 1 - len)) > 0) {
            len += (apr_size_t)n;
            if (len > max) {
                return APR_ENOSPC;
            }
        }
        if (n < 0) {
            return APR_EGENERAL;
        }
    }
    buf[len] = '\0';
    *pdata = buf;
    *plen = len;
    return APR_SUCCESS;
}

static apr_status_t json_cleanup(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

static int read_json(cnca_api_t *api)
{
    const char *ct = apr_table_get(api->r->headers_in, "Content-Type");
    const char *data;
    apr_size_t len;
    json_error_t jerr;
    apr_status_t rv;

    if (!ct || strncasecmp(ct, "application/json", 16)) {
        return cnca_api_fail(api, "unsupported_media_type", "请求格式不正确（需要 JSON）", NULL);
    }
    rv = cnca_api_read_body(api, JSON_BODY_MAX, &data, &len);
    if (rv == APR_ENOSPC) {
        return cnca_api_fail(api, "too_large", NULL, NULL);
    }
    if (rv != APR_SUCCESS) {
        return cnca_api_fail(api, "invalid_input", "请求不完整，请重试", NULL);
    }
    api->body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!api->body || !json_is_object(api->body)) {
        json_decref(api->body);
        api->body = NULL;
        return cnca_api_fail(api, "invalid_input", "请求格式不正确", NULL);
    }
    apr_pool_cleanup_register(api->r->pool, api->body, json_cleanup, apr_pool_cleanup_null);
    return OK;
}

static const route_t *find_route(const char *route, int method, int *pwrong_method)
{
    const route_t *rt;
    *pwrong_method = 0;
    for (rt = routes; rt->route; ++rt) {
        if (!strcmp(rt->route, route)) {
            if (rt->method == method) {
                return rt;
            }
            *pwrong_method = 1;
        }
    }
    return NULL;
}

static int load_session(cnca_api_t *api, session_need_t need)
{
    const char *id = NULL;
    apr_status_t rv = APR_NOTFOUND;

    ap_cookie_read(api->r, cookie_name(api), &id, 0);
    if (id) {
        rv = cnca_session_load(&api->sess, &api->sc->session_ctx, api->r->pool, id, api->now);
    }
    if (rv == APR_SUCCESS && api->sess->person_id > 0) {
        /* a phone change ends the holder's other sessions */
        rv = cnca_session_login_valid(api->sess, &api->sc->session_ctx, api->r->pool);
        if (rv == APR_NOTFOUND) {
            cnca_session_destroy(api->sess, &api->sc->session_ctx, api->r->pool);
            api->sess = NULL;
        }
    }
    if (rv == APR_EGENERAL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r,
                      "CNCA00022: session store unavailable (memcached %s)", api->sc->memcached);
        return fail_unsaved(api, "lookup_failed", NULL, NULL);
    }
    if (rv == APR_NOTFOUND) {
        if (!strcmp(api->route, "/face/return")) {
            return cnca_api_redirect(api, "index.html", 0);
        }
        if (need != SESSION_CREATE) {
            if (id) {
                clear_cookie(api);
            }
            return fail_unsaved(api, "no_session", NULL, NULL);
        }
        if (cnca_session_create(&api->sess, api->r->pool, api->now) != APR_SUCCESS) {
            return fail_unsaved(api, "lookup_failed", NULL, NULL);
        }
        cnca_api_audit(api, "session.create", "ok", 0, NULL, NULL);
    }
    if (need == LOGIN_REQUIRED && api->sess->person_id <= 0) {
        return fail_unsaved(api, "not_logged_in", NULL, NULL);
    }
    return OK;
}

int cnca_api_handler(request_rec *r)
{
    cnca_api_t api;
    const core_dir_config *core;
    const char *base;
    const route_t *rt;
    apr_size_t blen;
    int wrong_method, rc;

    if (!r->handler || strcmp(r->handler, "cnca-api")) {
        return DECLINED;
    }
    memset(&api, 0, sizeof(api));
    api.r = r;
    api.sc = cnca_srv_conf(r->server);
    api.now = apr_time_sec(r->request_time);
    /* the <Location> that set the handler is where the API is mounted */
    core = ap_get_core_module_config(r->per_dir_config);
    base = core && core->d && !core->d_is_fnmatch ? core->d : "";
    blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/') {
        --blen;
    }
    api.route = !strncmp(r->uri, base, blen) ? r->uri + blen : r->uri;
    api.base = apr_pstrndup(r->pool, base, blen);
    cnca_api_headers(r, 1);

    if (!api.sc->master || !api.sc->store) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CNCA00023: the API is not configured here (CNCAMasterKeyFile, memcached)");
        return fail_unsaved(&api, "lookup_failed", NULL, NULL);
    }
    if (!(rt = find_route(api.route, r->method_number, &wrong_method))) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "CNCA00024: no route %s %s (API at %s)",
                      r->method, api.route, base);
        if (wrong_method) {
            apr_table_setn(r->headers_out, "Allow", "GET, POST");
        }
        return fail_unsaved(&api, wrong_method ? "method_not_allowed" : "not_found", NULL, NULL);
    }
    if ((rc = load_session(&api, rt->need)) != OK || api.responded) {
        return rc;
    }
    if (rt->method == M_POST) {
        const char *token = apr_table_get(r->headers_in, "X-CNCA-CSRF");
        if (!cnca_str_equal_ct(token, api.sess->csrf)) {
            cnca_api_audit(&api, "csrf", "refused", api.sess->person_id, NULL, api.route);
            return fail_unsaved(&api, "csrf", NULL, NULL);
        }
        if (rt->body == BODY_JSON && ((rc = read_json(&api)) != OK || api.responded)) {
            return rc;
        }
    }
    return rt->step(&api);
}
