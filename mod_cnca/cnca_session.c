#include <stddef.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>

#include "cnca_log.h"
#include "cnca_session.h"

#define SESSION_KIND "s"

int cnca_session_id_valid(const char *id)
{
    int i;
    if (!id) {
        return 0;
    }
    for (i = 0; i < 32; ++i) {
        if (!apr_isxdigit(id[i]) || apr_isupper(id[i])) {
            return 0;
        }
    }
    return id[32] == '\0';
}

apr_status_t cnca_session_create(cnca_session_t **psess, apr_pool_t *p, apr_int64_t now)
{
    cnca_session_t *sess = apr_pcalloc(p, sizeof(*sess));
    apr_status_t rv;

    *psess = NULL;
    if ((rv = cnca_random_hex(&sess->id, p, 16)) != APR_SUCCESS ||
        (rv = cnca_random_hex(&sess->csrf, p, 16)) != APR_SUCCESS) {
        return rv;
    }
    sess->created = sess->touched = now;
    sess->is_new = 1;
    sess->dirty = 1;
    *psess = sess;
    return APR_SUCCESS;
}

/* One table drives both directions of the JSON mapping. */
typedef enum { F_STR, F_INT64, F_INT } field_kind_t;
typedef struct {
    const char *name;
    field_kind_t kind;
    apr_size_t offset;
} field_t;

#define S(f)                                                                                       \
    {                                                                                              \
#f, F_STR, offsetof(cnca_session_t, f)                                                     \
    }
#define I64(f)                                                                                     \
    {                                                                                              \
#f, F_INT64, offsetof(cnca_session_t, f)                                                   \
    }
#define I(f)                                                                                       \
    {                                                                                              \
#f, F_INT, offsetof(cnca_session_t, f)                                                     \
    }

static const field_t fields[] = {
    S(csrf),
    I64(created),
    I64(touched),
    I64(person_id),
    I64(login_at),
    S(flow),
    S(name),
    S(id_number),
    S(mobile),
    S(captcha_hash),
    I64(captcha_exp),
    S(sms_hash),
    S(sms_mobile),
    I64(sms_exp),
    I(sms_tries),
    S(proof_sms_mobile),
    S(proof_carrier_mobile),
    S(proof_bank_mobile),
    S(face_token),
    I64(face_started),
    I64(proof_face_at),
    S(face_status),
    S(face_message),
    I64(busy_until),
    I(just_enrolled),
};

static apr_status_t to_json(const char **pjson, const cnca_session_t *sess, apr_pool_t *p)
{
    json_t *obj = json_object();
    char *text = NULL;
    apr_size_t i;
    apr_status_t rv = APR_ENOMEM;

    *pjson = NULL;
    if (!obj) {
        return rv;
    }
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); ++i) {
        const char *base = (const char *)sess + fields[i].offset;
        json_t *v = NULL;
        switch (fields[i].kind) {
            case F_STR:
                if (*(const char *const *)base) {
                    v = json_string(*(const char *const *)base);
                }
                break;
            case F_INT64:
                if (*(const apr_int64_t *)base) {
                    v = json_integer(*(const apr_int64_t *)base);
                }
                break;
            case F_INT:
                if (*(const int *)base) {
                    v = json_integer(*(const int *)base);
                }
                break;
        }
        if (v && json_object_set_new(obj, fields[i].name, v) != 0) {
            goto leave;
        }
    }
    if ((text = json_dumps(obj, JSON_COMPACT))) {
        *pjson = apr_pstrdup(p, text);
        free(text);
        rv = APR_SUCCESS;
    }
leave:
    json_decref(obj);
    return rv;
}

static apr_status_t from_json(cnca_session_t *sess, const char *json, apr_size_t len, apr_pool_t *p)
{
    json_error_t err;
    json_t *obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    apr_size_t i;

    if (!obj || !json_is_object(obj)) {
        json_decref(obj);
        return APR_EINVAL;
    }
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); ++i) {
        char *base = (char *)sess + fields[i].offset;
        json_t *v = json_object_get(obj, fields[i].name);
        if (!v) {
            continue;
        }
        switch (fields[i].kind) {
            case F_STR:
                if (json_is_string(v)) {
                    *(const char **)base = apr_pstrdup(p, json_string_value(v));
                }
                break;
            case F_INT64:
                if (json_is_integer(v)) {
                    *(apr_int64_t *)base = json_integer_value(v);
                }
                break;
            case F_INT:
                if (json_is_integer(v)) {
                    *(int *)base = (int)json_integer_value(v);
                }
                break;
        }
    }
    json_decref(obj);
    return sess->csrf ? APR_SUCCESS : APR_EINVAL;
}

static const char *aad_for(apr_pool_t *p, const char *id)
{
    return apr_pstrcat(p, "session:", id, NULL);
}

apr_status_t cnca_session_encode(const char **psealed, const cnca_session_t *sess,
                                 const cnca_key_t *key, apr_pool_t *p)
{
    const char *json;
    apr_status_t rv;

    *psealed = NULL;
    if ((rv = to_json(&json, sess, p)) != APR_SUCCESS) {
        return rv;
    }
    return cnca_seal(psealed, p, key, aad_for(p, sess->id), json, strlen(json));
}

apr_status_t cnca_session_decode(cnca_session_t **psess, const char *sealed, const char *id,
                                 const cnca_key_t *key, apr_pool_t *p)
{
    cnca_session_t *sess = apr_pcalloc(p, sizeof(*sess));
    unsigned char *json;
    apr_size_t len;
    apr_status_t rv;

    *psess = NULL;
    if ((rv = cnca_open(&json, &len, p, key, aad_for(p, id), sealed)) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = from_json(sess, (const char *)json, len, p);
    memset(json, 0, len);
    if (rv == APR_SUCCESS) {
        sess->id = apr_pstrdup(p, id);
        *psess = sess;
    }
    return rv;
}

apr_status_t cnca_session_load(cnca_session_t **psess, const cnca_session_ctx_t *ctx, apr_pool_t *p,
                               const char *id, apr_int64_t now)
{
    char *val;
    apr_size_t len;
    uint64_t cas;
    apr_status_t rv;
    cnca_session_t *sess;

    *psess = NULL;
    if (!cnca_session_id_valid(id)) {
        return APR_NOTFOUND;
    }
    rv = cnca_store_get(&val, &len, &cas, ctx->store, p, cnca_store_key(p, SESSION_KIND, id));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (cnca_session_decode(&sess, val, id, ctx->key, p) != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_WARNING, APR_EINVAL,
                        "CNCA00121: a session document did not open (tampered or old key)");
        return APR_NOTFOUND;
    }
    if (now - sess->touched > ctx->idle_timeout || now - sess->created > ctx->max_age) {
        cnca_store_delete(ctx->store, cnca_store_key(p, SESSION_KIND, id));
        return APR_NOTFOUND;
    }
    sess->cas = cas;
    /* refresh the idle timer at most once a minute (a write saved on most
     * requests) and at least four times per timeout, so that a session in
     * use never reaches even a short CNCASessionTimeout */
    if (now - sess->touched >= (ctx->idle_timeout / 4 < 60 ? ctx->idle_timeout / 4 : 60)) {
        sess->touched = now;
        sess->touch_due = 1;
    }
    *psess = sess;
    return APR_SUCCESS;
}

static int ttl_for(const cnca_session_t *sess, const cnca_session_ctx_t *ctx, apr_int64_t now)
{
    apr_int64_t left = sess->created + ctx->max_age - now;
    apr_int64_t ttl = ctx->idle_timeout + 60;
    if (left < ttl) {
        ttl = left;
    }
    return ttl < 1 ? 1 : (int)ttl;
}

apr_status_t cnca_session_save(cnca_session_t *sess, const cnca_session_ctx_t *ctx, apr_pool_t *p,
                               apr_int64_t now)
{
    const char *sealed, *key;
    apr_status_t rv;

    if ((rv = cnca_session_encode(&sealed, sess, ctx->key, p)) != APR_SUCCESS) {
        return rv;
    }
    key = cnca_store_key(p, SESSION_KIND, sess->id);
    if (sess->is_new) {
        rv = cnca_store_add(ctx->store, key, sealed, strlen(sealed), ttl_for(sess, ctx, now));
    } else {
        if (sess->written) {
            /* saved before in this request: learn the CAS of what we wrote;
             * anything else there means another request wrote meanwhile */
            char *cur;
            apr_size_t len;
            rv = cnca_store_get(&cur, &len, &sess->cas, ctx->store, p, key);
            if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && strcmp(cur, sess->written))) {
                return APR_EEXIST;
            }
            if (rv != APR_SUCCESS) {
                return rv;
            }
        }
        rv = cnca_store_cas(ctx->store, key, sealed, strlen(sealed), ttl_for(sess, ctx, now),
                            sess->cas);
        if (rv == APR_NOTFOUND) {
            rv = APR_EEXIST; /* deleted meanwhile (logout, rotation): a conflict too */
        }
    }
    if (rv == APR_SUCCESS) {
        sess->is_new = 0;
        sess->dirty = 0;
        sess->touch_due = 0;
        sess->written = sealed;
    }
    return rv;
}

apr_status_t cnca_session_rotate(cnca_session_t *sess, const cnca_session_ctx_t *ctx, apr_pool_t *p,
                                 apr_int64_t now)
{
    const char *old = sess->id;
    apr_status_t rv;

    if ((rv = cnca_random_hex(&sess->id, p, 16)) != APR_SUCCESS ||
        (rv = cnca_random_hex(&sess->csrf, p, 16)) != APR_SUCCESS) {
        return rv;
    }
    sess->is_new = 1;
    sess->dirty = 1;
    sess->written = NULL;
    if ((rv = cnca_session_save(sess, ctx, p, now)) != APR_SUCCESS) {
        return rv;
    }
    return cnca_store_delete(ctx->store, cnca_store_key(p, SESSION_KIND, old));
}

apr_status_t cnca_session_destroy(cnca_session_t *sess, const cnca_session_ctx_t *ctx,
                                  apr_pool_t *p)
{
    return cnca_store_delete(ctx->store, cnca_store_key(p, SESSION_KIND, sess->id));
}

static const char *person_key(apr_pool_t *p, apr_int64_t person_id)
{
    return cnca_store_key(p, "p", apr_psprintf(p, "%" APR_INT64_T_FMT, person_id));
}

apr_status_t cnca_session_end_person(const cnca_session_ctx_t *ctx, apr_pool_t *p,
                                     apr_int64_t person_id, apr_time_t now)
{
    const char *mark = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)now);
    return cnca_store_set(ctx->store, person_key(p, person_id), mark, strlen(mark),
                          ctx->max_age + 60);
}

apr_status_t cnca_session_login_valid(const cnca_session_t *sess, const cnca_session_ctx_t *ctx,
                                      apr_pool_t *p)
{
    char *val;
    apr_size_t len;
    apr_status_t rv;

    if (sess->person_id <= 0) {
        return APR_SUCCESS;
    }
    rv = cnca_store_get(&val, &len, NULL, ctx->store, p, person_key(p, sess->person_id));
    if (rv == APR_NOTFOUND) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return apr_atoi64(val) > sess->login_at ? APR_NOTFOUND : APR_SUCCESS;
}
