/* POST BASE/gateway: the gateway protocol answered by the sandbox's
 * documented rules (API.md, "Sandbox"):
 *   mobile-3e    fail when the mobile begins with 170 or 171, else pass;
 *   bankcard-4e  pass when the card passes Luhn and the mobile does not
 *                begin with 170 or 171, else fail;
 *   sms-send     stored for BASE/sms and the inbox, pass;
 *   face-start   a face session; pass with token and url (BASE/face?token=T);
 *   face-result  pass with name, id-number, score when T's capture passed;
 *                fail when it failed, none happened yet, or T is unknown.
 * A sandbox person (table sandbox_person, by ID number, or by mobile for
 * sms-send; for face-result the ID number given at face-start) overrides
 * this: pass, fail or error with a reason, or late (answers after
 * CNCASandboxLateSeconds). */
#include "mod_cnca_sandbox.h"

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "cnca_crypto.h"
#include "cnca_validate.h"

#define SCORE "95.0"

typedef struct {
    const char *type;
    const char *fail_code, *fail_text;
} default_reason_t;

static const default_reason_t fail_reasons[] = {
    {CNCA_GW_MOBILE_3E, "mismatch", "手机号码与身份信息不一致"},
    {CNCA_GW_BANKCARD_4E, "mismatch", "银行卡信息验证不一致"},
    {CNCA_GW_SMS_SEND, "sms-failed", "短信发送失败"},
    {CNCA_GW_FACE_START, "face-unavailable", "暂时无法进行人脸识别"},
    {CNCA_GW_FACE_RESULT, "face-mismatch", "人脸识别未通过"},
};

#define ERROR_CODE "sandbox-error"
#define ERROR_TEXT "身份认证服务暂时不可用，请稍后再试"
#define FACE_PENDING_CODE "face-pending"
#define FACE_PENDING_TEXT "尚未完成人脸识别"
#define FACE_UNKNOWN_CODE "unknown-token"
#define FACE_UNKNOWN_TEXT "人脸识别会话不存在或已过期"

/* What the sandbox answers. */
typedef struct {
    cnca_gw_result_t result;
    const char *code, *text;
    const char **kv; /* response fields, NULL-terminated pairs */
} answer_t;

static void set_fail(answer_t *a, const char *type)
{
    apr_size_t i;

    a->result = CNCA_GW_FAIL;
    for (i = 0; i < sizeof(fail_reasons) / sizeof(fail_reasons[0]); ++i) {
        if (!strcmp(fail_reasons[i].type, type)) {
            a->code = fail_reasons[i].fail_code;
            a->text = fail_reasons[i].fail_text;
        }
    }
}

static void set_result(answer_t *a, cnca_gw_result_t result, const char *code, const char *text)
{
    a->result = result;
    a->code = code;
    a->text = text;
}

/* 170 and 171 are the virtual-operator ranges the carrier check refuses. */
static int mobile_refused(const char *mobile)
{
    return !strncmp(mobile, "170", 3) || !strncmp(mobile, "171", 3);
}

static int card_ok(apr_pool_t *p, const char *card)
{
    const char *norm, *msg;
    return cnca_validate_bank_card(&norm, &msg, p, card) == APR_SUCCESS;
}

static apr_status_t face_start(answer_t *a, sandbox_req_t *sr, apr_table_t *fields)
{
    request_rec *r = sr->r;
    sandbox_face_t f;
    const char *url;
    apr_status_t rv;

    rv = cnca_random_hex(&f.token, r->pool, 16);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    f.name = apr_table_get(fields, "name");
    f.id_number = apr_table_get(fields, "id-number");
    f.return_url = apr_table_get(fields, "return-url");
    f.status = "pending";
    rv = sandbox_face_add(r, &f);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    url =
        ap_construct_url(r->pool, apr_pstrcat(r->pool, sr->base, "/face?token=", f.token, NULL), r);
    a->kv = apr_pcalloc(r->pool, 5 * sizeof(*a->kv));
    a->kv[0] = "token";
    a->kv[1] = f.token;
    a->kv[2] = "url";
    a->kv[3] = url;
    return APR_SUCCESS;
}

static void face_pass(answer_t *a, apr_pool_t *p, const sandbox_face_t *f)
{
    a->result = CNCA_GW_PASS;
    a->kv = apr_pcalloc(p, 7 * sizeof(*a->kv));
    a->kv[0] = "name";
    a->kv[1] = f->name;
    a->kv[2] = "id-number";
    a->kv[3] = f->id_number;
    a->kv[4] = "score";
    a->kv[5] = SCORE;
}

/* The answer to a valid request. */
static apr_status_t decide(answer_t *a, sandbox_req_t *sr, const cnca_gw_request_t *req)
{
    request_rec *r = sr->r;
    const char *type = req->type, *subject, *mobile;
    sandbox_person_t *person = NULL;
    sandbox_face_t *face = NULL;
    apr_status_t rv;
    int forced_pass;

    memset(a, 0, sizeof(*a));
    a->result = CNCA_GW_PASS;
    mobile = apr_table_get(req->fields, "mobile");
    if (!strcmp(type, CNCA_GW_FACE_RESULT)) {
        rv = sandbox_face_find(&face, r, apr_table_get(req->fields, "token"));
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (!face) {
            set_result(a, CNCA_GW_FAIL, FACE_UNKNOWN_CODE, FACE_UNKNOWN_TEXT);
            return APR_SUCCESS;
        }
        subject = face->id_number;
    } else if (!strcmp(type, CNCA_GW_SMS_SEND)) {
        subject = mobile;
    } else {
        subject = apr_table_get(req->fields, "id-number");
    }

    rv = sandbox_person_find(&person, r, subject, type);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (person && !strcmp(person->behaviour, "late")) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "CNCA00612: sandbox person asks for a late %s answer: waiting %d s", type,
                      sr->conf->late_seconds);
        apr_sleep(apr_time_from_sec(sr->conf->late_seconds));
    } else if (person && !strcmp(person->behaviour, "fail")) {
        set_fail(a, type);
    } else if (person && !strcmp(person->behaviour, "error")) {
        set_result(a, CNCA_GW_ERROR, ERROR_CODE, ERROR_TEXT);
    }
    if (a->result != CNCA_GW_PASS) {
        if (person->reason_code && *person->reason_code) {
            a->code = person->reason_code;
        }
        if (person->reason_text && *person->reason_text) {
            a->text = person->reason_text;
        }
        return APR_SUCCESS;
    }
    forced_pass = person && !strcmp(person->behaviour, "pass");

    if (!strcmp(type, CNCA_GW_MOBILE_3E)) {
        if (!forced_pass && mobile_refused(mobile)) {
            set_fail(a, type);
        }
    } else if (!strcmp(type, CNCA_GW_BANKCARD_4E)) {
        if (!forced_pass && (mobile_refused(mobile) ||
                             !card_ok(r->pool, apr_table_get(req->fields, "bank-card")))) {
            set_fail(a, type);
        }
    } else if (!strcmp(type, CNCA_GW_SMS_SEND)) {
        return sandbox_sms_add(r, mobile, apr_table_get(req->fields, "text"));
    } else if (!strcmp(type, CNCA_GW_FACE_START)) {
        return face_start(a, sr, req->fields);
    } else if (!strcmp(type, CNCA_GW_FACE_RESULT)) {
        if (forced_pass || !strcmp(face->status, "pass")) {
            face_pass(a, r->pool, face);
        } else if (!strcmp(face->status, "fail")) {
            set_fail(a, type);
        } else {
            set_result(a, CNCA_GW_FAIL, FACE_PENDING_CODE, FACE_PENDING_TEXT);
        }
    }
    return APR_SUCCESS;
}

int sandbox_gateway(sandbox_req_t *sr)
{
    request_rec *r = sr->r;
    const sandbox_conf_t *c = sr->conf;
    const char *body, *ts, *sig, *cause = NULL, *xml = NULL;
    cnca_gw_request_t *req = NULL;
    apr_size_t len;
    answer_t a;
    int rc;

    rc = sandbox_method_is(r, M_POST);
    if (rc != OK) {
        return rc;
    }
    rc = sandbox_read_body(r, CNCA_GW_MAX_BODY, &body, &len);
    if (rc != OK) {
        return rc;
    }
    ts = apr_table_get(r->headers_in, CNCA_GW_HEADER_TIMESTAMP);
    sig = apr_table_get(r->headers_in, CNCA_GW_HEADER_SIGNATURE);
    if (!ts || !sig) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "CNCA00613: gateway request without " CNCA_GW_HEADER_TIMESTAMP
                      " and " CNCA_GW_HEADER_SIGNATURE ": refused");
        return HTTP_UNAUTHORIZED;
    }
    if (!cnca_gw_signature_ok(r->pool, c->secret, c->secret_len, ts, sig, body, len,
                              apr_time_now())) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "CNCA00614: gateway request with a bad signature or a timestamp more "
                      "than %d s off: refused",
                      CNCA_GW_MAX_SKEW);
        return HTTP_FORBIDDEN;
    }
    if (cnca_gw_parse_request(&req, &cause, r->pool, body, len, c->schema) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "CNCA00615: invalid gateway request: %s",
                      cause);
        return HTTP_BAD_REQUEST;
    }
    if (decide(&a, sr, req) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (cnca_gw_build_response(&xml, r->pool, req->id, a.result, a.code, a.text, a.kv) !=
        APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "sandbox gateway %s: %s", req->type,
                  cnca_gw_result_name(a.result));
    sandbox_headers(r, 0);
    ap_set_content_type(r, CNCA_GW_CONTENT_TYPE);
    ap_set_content_length(r, (apr_off_t)strlen(xml));
    if (!r->header_only) {
        ap_rputs(xml, r);
    }
    return OK;
}
