/* POST /verify/mobile and POST /verify/bank: the SMS code, then the
 * carrier's three-element check or the bank's four-element check, each
 * proof bound to the mobile it proved (manual 3.1 step 4, 3.2 steps 5-8,
 * manual 4). */
#include "mod_cnca.h"

#include <apr_strings.h>

#include "cnca_enroll.h"
#include "cnca_flow.h"
#include "cnca_gateway.h"
#include "cnca_mask.h"
#include "cnca_otp.h"
#include "cnca_person.h"
#include "cnca_validate.h"

#define MSG_NOT_REALNAME                                                                           \
    "您的手机未能通过实名认证，请点击“确定”进行银行卡认证，若更换其他手机，请点击“取消”"
#define MSG_BANK_PASSED                                                                            \
    "您已通过银行卡认证，确认使用你银行卡开户时预留在银行的手机号码作为申领数字证书手机号码"

/* A check the gateway could not answer: in a phone change it is manual
 * 6.7's "申请数字证书失败，请确认您提交的信息" row. */
static const char *gateway_error_code(const cnca_session_t *sess)
{
    return sess->flow && !strcmp(sess->flow, CNCA_FLOW_CHANGE_MOBILE) ? "change_submit_failed"
                                                                      : "gateway_error";
}

/* Another request wrote the session since it was loaded: take what it
 * wrote (the pointer api->sess stays, the callers hold it). */
static apr_status_t reload_session(cnca_api_t *api)
{
    cnca_session_t *fresh = NULL;
    apr_status_t rv =
        cnca_session_load(&fresh, &api->sc->session_ctx, api->r->pool, api->sess->id, api->now);
    if (rv == APR_SUCCESS) {
        *api->sess = *fresh;
    }
    return rv;
}

#define CHECK_RETRIES 8

/* The code checked against the session as stored, and the outcome (a try
 * counted, the code used up) written back before it is answered: when a
 * parallel request wrote the session first, the check is made again on
 * what it wrote, so every wrong try counts and a code is used once. */
static apr_status_t check_stored(cnca_otp_result_t *presult, int *pleft, cnca_api_t *api,
                                 const char *mobile, const char *code)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < CHECK_RETRIES; ++i) {
        *presult = cnca_sms_code_check(api->sess, api->r->pool, &api->sc->key_otp, mobile, code,
                                       api->now, pleft);
        if ((rv = cnca_api_session_save(api)) != APR_EEXIST) {
            return rv;
        }
        if ((rv = reload_session(api)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_EEXIST;
}

/* agree:true and a 6-digit code; then the code for mobile, used up on
 * success (of two parallel right answers, one wins; parallel wrong ones
 * each count). OK with *pdone 0 to go on. */
static int check_code(cnca_api_t *api, const char *mobile, int *pdone)
{
    apr_pool_t *p = api->r->pool;
    json_t *agree = api->body ? json_object_get(api->body, "agree") : NULL;
    const char *code, *msg;
    cnca_otp_result_t result;
    json_t *extra;
    int left = 0;
    apr_status_t rv;

    *pdone = 1;
    if (cnca_validate_digits(&code, &msg, p, cnca_api_str(api, "sms_code"), CNCA_SMS_CODE_DIGITS,
                             "短信验证码") != APR_SUCCESS) {
        return cnca_api_invalid(api, "sms_code", msg);
    }
    if (!json_is_true(agree)) {
        return cnca_api_invalid(api, "agree", "请阅读并同意使用条款");
    }
    /* no code was sent to this mobile in this session: the SMS step comes
     * first, and nothing is counted or changed (a code that was sent and is
     * used up, voided or expired is sms_expired below) */
    if (!api->sess->sms_mobile || strcmp(api->sess->sms_mobile, mobile)) {
        cnca_api_audit(api, "sms.verify", "wrong_step", api->sess->person_id, cnca_api_subject(api),
                       cnca_api_mobile_detail(api, mobile));
        return cnca_api_fail(api, "wrong_step", "请先获取短信验证码", NULL);
    }
    rv = check_stored(&result, &left, api, mobile, code);
    if (rv == APR_NOTFOUND) {
        return cnca_api_fail(api, "no_session", NULL, NULL);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, rv == APR_EEXIST ? APLOG_WARNING : APLOG_ERR, rv, api->r,
                      "CNCA00061: the SMS code check could not be stored");
        api->sess->dirty = 0; /* nothing of this try is answered as done */
        return cnca_api_fail(api, rv == APR_EEXIST ? "conflict" : "lookup_failed", NULL, NULL);
    }
    switch (result) {
        case CNCA_OTP_OK:
            break;
        case CNCA_OTP_WRONG:
            cnca_api_audit(api, "sms.verify", left > 0 ? "wrong" : "voided", api->sess->person_id,
                           cnca_api_subject(api), cnca_api_mobile_detail(api, mobile));
            if (left <= 0) {
                return cnca_api_fail(api, "sms_expired", "短信验证码错误次数过多，请重新获取",
                                     NULL);
            }
            extra = json_object();
            json_object_set_new(extra, "attempts_left", json_integer(left));
            json_object_set_new(extra, "field", json_string("sms_code"));
            return cnca_api_fail(api, "sms_wrong",
                                 apr_psprintf(p, "短信验证码错误，还可尝试%d次", left), extra);
        default:
            cnca_api_audit(api, "sms.verify", "expired", api->sess->person_id,
                           cnca_api_subject(api), cnca_api_mobile_detail(api, mobile));
            return cnca_api_fail(api, "sms_expired", NULL, NULL);
    }
    /* the applicant holds the phone: a proof of its own */
    cnca_api_audit(api, "proof.sms", "pass", api->sess->person_id, cnca_api_subject(api),
                   cnca_api_mobile_detail(api, mobile));
    *pdone = 0;
    return OK;
}

/* Login with the certificate's verified mobile: logged in. *pdone 0 when the
 * mobile is another one (FAQ 4: it is proven as a new applicant's). */
static int login_if_verified(cnca_api_t *api, const char *mobile, int *pdone)
{
    cnca_person_t *person = NULL;
    cnca_db_t *db;
    const char *subject = cnca_api_subject(api);
    json_t *obj;
    apr_status_t rv;

    *pdone = 1;
    if ((rv = cnca_api_db(&db, api)) == APR_SUCCESS) {
        rv = cnca_person_find(&person, db, api->r->pool, subject);
    }
    if (rv != APR_SUCCESS || !person->serial) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r,
                      "CNCA00060: the holder cannot be looked up at login");
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    if (strcmp(person->mobile, mobile)) {
        *pdone = 0;
        return OK;
    }
    cnca_flow_end(api->sess);
    if ((rv = cnca_api_login(api, person->id)) != APR_SUCCESS) {
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    /* the flow (and its ID number) is over: the subject was taken before */
    cnca_api_audit(api, "login", "ok", person->id, subject, cnca_api_mobile_detail(api, mobile));
    obj = json_object();
    json_object_set_new(obj, "next", json_string("me"));
    return cnca_api_ok(api, obj);
}

int cnca_step_verify_mobile(cnca_api_t *api)
{
    cnca_session_t *sess = api->sess;
    const char *mobile = sess->mobile, *subject;
    cnca_gw_response_t *resp;
    json_t *obj;
    apr_status_t rv;
    int rc, done;

    if (!sess->flow || !mobile) {
        return cnca_api_fail(api, "wrong_step", "请先填写个人信息", NULL);
    }
    if ((rc = check_code(api, mobile, &done)) != OK || done) {
        return rc;
    }
    subject = cnca_api_subject(api);
    if (!strcmp(sess->flow, CNCA_FLOW_LOGIN)) {
        if ((rc = login_if_verified(api, mobile, &done)) != OK || done) {
            return rc;
        }
    }
    {
        const char *kv[] = {"name",   sess->name, "id-number", sess->id_number,
                            "mobile", mobile,     NULL};
        rv = cnca_api_gateway(api, CNCA_GW_MOBILE_3E, kv, (void **)&resp);
    }
    if (rv != APR_SUCCESS || resp->result == CNCA_GW_ERROR) {
        cnca_api_audit(api, "proof.carrier", "error", sess->person_id, subject,
                       cnca_api_mobile_detail(api, mobile));
        return cnca_api_fail(api, gateway_error_code(sess), NULL, NULL);
    }
    sess->proof_sms_mobile = mobile;
    sess->dirty = 1;
    obj = json_object();
    if (resp->result == CNCA_GW_FAIL) {
        cnca_api_audit(api, "proof.carrier", "fail", sess->person_id, subject,
                       apr_pstrcat(api->r->pool, cnca_api_mobile_detail(api, mobile),
                                   " reason=", resp->reason_code ? resp->reason_code : "-", NULL));
        json_object_set_new(obj, "realname", json_false());
        json_object_set_new(obj, "next", json_string("bank"));
        json_object_set_new(obj, "message", json_string(MSG_NOT_REALNAME));
        return cnca_api_ok(api, obj);
    }
    sess->proof_carrier_mobile = mobile;
    cnca_api_audit(api, "proof.carrier", "pass", sess->person_id, subject,
                   cnca_api_mobile_detail(api, mobile));
    if (!strcmp(sess->flow, CNCA_FLOW_CHANGE_MOBILE)) {
        json_decref(obj);
        return cnca_api_change_mobile(api, mobile);
    }
    json_object_set_new(obj, "realname", json_true());
    json_object_set_new(obj, "next", json_string("face"));
    return cnca_api_ok(api, obj);
}

int cnca_step_verify_bank(cnca_api_t *api)
{
    apr_pool_t *p = api->r->pool;
    cnca_session_t *sess = api->sess;
    const char *card, *mobile, *msg, *subject, *detail;
    cnca_gw_response_t *resp;
    json_t *obj;
    apr_status_t rv;
    int rc, done;

    if (!sess->flow) {
        return cnca_api_fail(api, "wrong_step", "请先填写个人信息", NULL);
    }
    if (strcmp(cnca_flow_step(sess, api->now, api->sc->face_max_age), "bank")) {
        return cnca_api_fail(api, "wrong_step",
                             cnca_flow_sms_proven(sess) ? "您已完成身份认证，请继续下一步"
                                                        : "请先完成手机短信验证",
                             NULL);
    }
    if (cnca_validate_bank_card(&card, &msg, p, cnca_api_str(api, "card_number")) != APR_SUCCESS) {
        return cnca_api_invalid(api, "card_number", msg);
    }
    if (cnca_validate_mobile(&mobile, &msg, p, cnca_api_str(api, "mobile")) != APR_SUCCESS) {
        return cnca_api_invalid(api, "mobile", msg);
    }
    if ((rc = check_code(api, mobile, &done)) != OK || done) {
        return rc;
    }
    subject = cnca_api_subject(api);
    detail = apr_pstrcat(p, cnca_api_mobile_detail(api, mobile),
                         " card=", cnca_mask_bank_card(p, card), NULL);
    {
        const char *kv[] = {"name",   sess->name, "id-number", sess->id_number, "bank-card", card,
                            "mobile", mobile,     NULL};
        rv = cnca_api_gateway(api, CNCA_GW_BANKCARD_4E, kv, (void **)&resp);
    }
    if (rv != APR_SUCCESS || resp->result == CNCA_GW_ERROR) {
        cnca_api_audit(api, "proof.bank", "error", sess->person_id, subject, detail);
        return cnca_api_fail(api, gateway_error_code(sess), NULL, NULL);
    }
    if (resp->result == CNCA_GW_FAIL) {
        cnca_api_audit(
            api, "proof.bank", "fail", sess->person_id, subject,
            apr_pstrcat(p, detail, " reason=", resp->reason_code ? resp->reason_code : "-", NULL));
        return cnca_api_fail_reason(api, "verify_failed",
                                    resp->reason_text ? resp->reason_text : "银行卡认证未通过");
    }
    /* the bank-reserved mobile becomes the flow's (certificate) mobile */
    cnca_flow_set_mobile(sess, apr_pstrdup(p, mobile));
    sess->proof_sms_mobile = sess->mobile;
    sess->proof_bank_mobile = sess->mobile;
    sess->dirty = 1;
    cnca_api_audit(api, "proof.bank", "pass", sess->person_id, subject, detail);
    obj = json_object();
    json_object_set_new(obj, "next", json_string("face"));
    json_object_set_new(obj, "mobile", json_string(mobile));
    json_object_set_new(obj, "message", json_string(MSG_BANK_PASSED));
    return cnca_api_ok(api, obj);
}
