/* POST /me/signature?source=handwrite|upload|photo with the raw PNG or JPEG:
 * limits checked before decoding, decoded and re-encoded as PNG (photos
 * cleaned to ink on transparent), never stored as sent (manual 3.1 step 8). */
#include "mod_cnca.h"

#include <apr_strings.h>
#include <http_protocol.h>
#include <http_core.h>
#include <util_script.h>

#include "cnca_enroll.h"
#include "cnca_image.h"

int cnca_step_me_signature(cnca_api_t *api)
{
    request_rec *r = api->r;
    apr_table_t *args = NULL;
    const char *source = NULL, *ct, *data, *code, *msg;
    cnca_image_limits_t limits = {api->sc->sig_max_bytes, api->sc->sig_max_w, api->sc->sig_max_h};
    cnca_audit_t audit = {
        api->now, r->useragent_ip, "signature.set", "ok", api->sess->person_id, NULL, NULL};
    cnca_sig_source_t src;
    const void *png;
    apr_size_t len, png_len;
    cnca_db_t *db;
    json_t *obj;
    apr_status_t rv;

    ap_args_to_table(r, &args);
    source = args ? apr_table_get(args, "source") : NULL;
    if (!source || cnca_sig_source_parse(&src, source) != APR_SUCCESS) {
        return cnca_api_invalid(api, "source", "签名方式应为手写签名、上传签名或拍摄签名");
    }
    ct = apr_table_get(r->headers_in, "Content-Type");
    if (!ct || (strncasecmp(ct, "image/png", 9) && strncasecmp(ct, "image/jpeg", 10))) {
        return cnca_api_fail(api, "unsupported_media_type", "请上传 PNG 或 JPEG 格式的图片", NULL);
    }
    rv = cnca_api_read_body(api, limits.max_bytes, &data, &len);
    if (rv == APR_ENOSPC) {
        return cnca_api_fail(api, "too_large",
                             apr_psprintf(r->pool, "图片过大，请选择不超过%luKB的图片",
                                          (unsigned long)(limits.max_bytes / 1024)),
                             NULL);
    }
    if (rv != APR_SUCCESS) {
        return cnca_api_invalid(api, "image", "图片上传不完整，请重试");
    }
    rv = cnca_signature_normalize(&png, &png_len, &code, &msg, r->pool, data, len, src, &limits);
    if (rv != APR_SUCCESS) {
        cnca_api_audit(api, "signature.set", "refused", api->sess->person_id, NULL, code);
        if (code &&
            (!strcmp(code, CNCA_IMAGE_TOO_LARGE) || !strcmp(code, CNCA_IMAGE_TOO_MANY_PIXELS))) {
            return cnca_api_fail(api, "too_large", msg, NULL);
        }
        if (code && !strcmp(code, CNCA_IMAGE_INTERNAL)) {
            return cnca_api_fail(api, "lookup_failed", NULL, NULL);
        }
        return cnca_api_invalid(api, "image", msg);
    }
    audit.detail = apr_psprintf(r->pool, "source=%s bytes=%lu", source, (unsigned long)png_len);
    if ((rv = cnca_api_db(&db, api)) == APR_SUCCESS) {
        rv = cnca_signature_save(db, r->pool, api->sess->person_id, png, png_len, source, &audit,
                                 api->now);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "CNCA00090: the signature was not stored");
        return cnca_api_fail(api, "query_failed", NULL, NULL);
    }
    obj = json_object();
    json_object_set_new(obj, "next", json_string(api->sess->just_enrolled ? "terms" : "me"));
    if (api->sess->just_enrolled) {
        api->sess->just_enrolled = 0;
        api->sess->dirty = 1;
    }
    return cnca_api_ok(api, obj);
}
