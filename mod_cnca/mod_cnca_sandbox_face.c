/* The sandbox's face check, as a real H5 identity vendor does it: the
 * module sends the browser to GET BASE/face?token=T (htdocs/sandbox/
 * face.html: "快速验证", the front camera, "查看规范"), the page uploads one
 * capture to POST BASE/face/capture?token=T, and the browser goes back to
 * the module's return URL with T. A capture passes when it decodes as a
 * PNG or JPEG of at least 64x64 pixels. */
#include "mod_cnca_sandbox.h"

#include <apr_strings.h>
#include <http_protocol.h>

#include "cnca_image.h"

#define MSG_PASS "人脸识别认证成功"
#define MSG_FAIL "未能识别到清晰的人脸，请按规范重新验证"
#define MSG_UNKNOWN "人脸识别会话不存在或已过期，请返回重新发起认证"

/* Looks the token of the query up; *pf NULL with a status when it is
 * missing or unknown. */
static int find_session(sandbox_face_t **pf, request_rec *r)
{
    const char *token = sandbox_token_arg(r);

    *pf = NULL;
    if (!token) {
        return HTTP_NOT_FOUND;
    }
    if (sandbox_face_find(pf, r, token) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return *pf ? OK : HTTP_NOT_FOUND;
}

int sandbox_face_page(sandbox_req_t *sr)
{
    sandbox_face_t *f;
    int rc;

    rc = sandbox_method_is(sr->r, M_GET);
    if (rc != OK) {
        return rc;
    }
    rc = find_session(&f, sr->r);
    if (rc == HTTP_NOT_FOUND) {
        return sandbox_send_asset(sr, "face-expired.html", HTTP_NOT_FOUND);
    }
    if (rc != OK) {
        return rc;
    }
    return sandbox_send_asset(sr, "face.html", HTTP_OK);
}

/* The return URL with token=T added to its query. */
static const char *redirect_url(apr_pool_t *p, const sandbox_face_t *f)
{
    const char *hash = strchr(f->return_url, '#');
    apr_size_t len = hash ? (apr_size_t)(hash - f->return_url) : strlen(f->return_url);
    const char *url = apr_pstrndup(p, f->return_url, len);

    return apr_pstrcat(p, url, strchr(url, '?') ? "&" : "?", "token=", f->token, hash, NULL);
}

static int answer(request_rec *r, int status, const char *result, const char *redirect,
                  const char *message)
{
    json_t *j = json_pack("{s:s, s:s}", "result", result, "message", message);

    if (j && redirect) {
        json_object_set_new(j, "redirect", json_string(redirect));
    }
    return sandbox_send_json(r, status, j);
}

int sandbox_face_capture(sandbox_req_t *sr)
{
    request_rec *r = sr->r;
    const cnca_image_limits_t limits = {SANDBOX_CAPTURE_MAX, 0, 0};
    const char *body, *msg = NULL, *status;
    sandbox_face_t *f;
    apr_size_t len;
    int rc, w = 0, h = 0, pass;

    rc = sandbox_method_is(r, M_POST);
    if (rc != OK) {
        return rc;
    }
    rc = find_session(&f, r);
    if (rc == HTTP_NOT_FOUND) {
        return answer(r, HTTP_NOT_FOUND, "fail", NULL, MSG_UNKNOWN);
    }
    if (rc != OK) {
        return rc;
    }
    rc = sandbox_read_body(r, SANDBOX_CAPTURE_MAX, &body, &len);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return answer(r, rc, "fail", NULL, "照片过大，请重新拍摄");
    }
    if (rc != OK) {
        return rc;
    }
    pass = cnca_image_decode_size(&w, &h, &msg, body, len, &limits) == APR_SUCCESS &&
           w >= SANDBOX_FACE_MIN_SIDE && h >= SANDBOX_FACE_MIN_SIDE;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "CNCA00616: sandbox face capture of %" APR_SIZE_T_FMT " bytes, %dx%d: %s", len, w,
                  h, pass ? "pass" : "fail");
    status = pass ? "pass" : "fail";
    if (sandbox_face_set_status(r, f->token, status) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return answer(r, HTTP_OK, status, redirect_url(r->pool, f), pass ? MSG_PASS : MSG_FAIL);
}
