/* What a logged-in holder sees and changes: GET /me, the certificate, the
 * signature image, POST /me/mobile (manual 3.1 step 10-11, manual 4). */
#include "mod_cnca.h"

#include <apr_strings.h>

#include "cnca_enroll.h"
#include "cnca_flow.h"
#include "cnca_mask.h"
#include "cnca_person.h"
#include "cnca_validate.h"

/* ISO 8601 in China time, as the pages show it. */
static const char *china_time(apr_pool_t *p, apr_int64_t sec)
{
    apr_time_exp_t tm;
    apr_time_exp_tz(&tm, apr_time_from_sec(sec), 8 * 3600);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static apr_status_t load_holder(cnca_holder_t **pholder, cnca_api_t *api)
{
    cnca_db_t *db;
    apr_status_t rv = cnca_api_db(&db, api);
    if (rv == APR_SUCCESS) {
        rv =
            cnca_holder_load(pholder, db, api->r->pool, &api->sc->key_id_enc, api->sess->person_id);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r,
                      "CNCA00080: the holder's record cannot be read");
    }
    return rv;
}

int cnca_step_me(cnca_api_t *api)
{
    apr_pool_t *p = api->r->pool;
    cnca_holder_t *h;
    json_t *obj, *cert;

    if (load_holder(&h, api) != APR_SUCCESS) {
        return cnca_api_fail(api, "query_failed", NULL, NULL);
    }
    cert = json_object();
    json_object_set_new(cert, "serial", json_string(h->serial));
    json_object_set_new(cert, "not_before", json_string(china_time(p, h->not_before)));
    json_object_set_new(cert, "not_after", json_string(china_time(p, h->not_after)));
    json_object_set_new(cert, "algorithm", json_string(h->algorithm));
    json_object_set_new(cert, "status", json_string(h->status));
    obj = json_object();
    json_object_set_new(obj, "name", json_string(h->name));
    json_object_set_new(obj, "id_number", json_string(cnca_mask_id_number(p, h->id_number)));
    json_object_set_new(obj, "mobile", json_string(cnca_mask_mobile(p, h->mobile)));
    json_object_set_new(obj, "certificate", cert);
    json_object_set_new(obj, "has_signature", json_boolean(h->has_signature));
    return cnca_api_ok(api, obj);
}

int cnca_step_me_certificate(cnca_api_t *api)
{
    cnca_holder_t *h;

    if (load_holder(&h, api) != APR_SUCCESS) {
        return cnca_api_fail(api, "query_failed", NULL, NULL);
    }
    apr_table_setn(api->r->headers_out, "Content-Disposition",
                   apr_psprintf(api->r->pool, "attachment; filename=\"%s.pem\"", h->serial));
    return cnca_api_send(api, "application/x-pem-file", h->cert_pem, strlen(h->cert_pem));
}

int cnca_step_me_signature_png(cnca_api_t *api)
{
    const void *png;
    apr_size_t len;
    cnca_db_t *db;
    apr_status_t rv = cnca_api_db(&db, api);

    if (rv == APR_SUCCESS) {
        rv = cnca_signature_load(&png, &len, db, api->r->pool, api->sess->person_id);
    }
    if (rv == APR_NOTFOUND) {
        return cnca_api_fail(api, "not_found", "尚未设置签名图片", NULL);
    }
    if (rv != APR_SUCCESS) {
        return cnca_api_fail(api, "query_failed", NULL, NULL);
    }
    return cnca_api_send(api, "image/png", png, len);
}

int cnca_step_me_mobile(cnca_api_t *api)
{
    const char *mobile, *msg;
    cnca_holder_t *h;
    json_t *obj;

    if (cnca_validate_mobile(&mobile, &msg, api->r->pool, cnca_api_str(api, "mobile")) !=
        APR_SUCCESS) {
        return cnca_api_invalid(api, "mobile", msg);
    }
    if (load_holder(&h, api) != APR_SUCCESS) {
        return cnca_api_fail(api, "query_failed", NULL, NULL);
    }
    if (!strcmp(h->mobile, mobile)) {
        return cnca_api_invalid(api, "mobile", "新手机号码与当前验证手机号码相同");
    }
    cnca_flow_start(api->sess, CNCA_FLOW_CHANGE_MOBILE, h->name, h->id_number, mobile);
    cnca_api_audit(api, "mobile.change", "started", h->id, h->id_hash,
                   cnca_api_mobile_detail(api, mobile));
    obj = json_object();
    json_object_set_new(obj, "next", json_string("apply-verify"));
    return cnca_api_ok(api, obj);
}
