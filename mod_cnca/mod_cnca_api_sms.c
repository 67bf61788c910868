/* POST /sms {mobile, captcha}: the captcha first (used up either way), the
 * sending limits (in the database, before the gateway is asked), then a
 * 6-digit code from the CSPRNG, kept only as a keyed hash bound to this
 * session and that mobile, sent through the gateway. */
#include "mod_cnca.h"

#include <apr_strings.h>

#include "cnca_flow.h"
#include "cnca_gateway.h"
#include "cnca_mask.h"
#include "cnca_otp.h"
#include "cnca_person.h"
#include "cnca_sms_limit.h"
#include "cnca_validate.h"

static const char *mobile_hash(cnca_api_t *api, const char *mobile)
{
    return cnca_hmac_hex(api->r->pool, api->sc->key_otp.bytes, CNCA_KEY_LEN, mobile,
                         strlen(mobile));
}

int cnca_step_sms(cnca_api_t *api)
{
    apr_pool_t *p = api->r->pool;
    cnca_session_t *sess = api->sess;
    const char *mobile, *captcha, *msg, *code, *reason, *masked, *subject;
    cnca_sms_limits_t limits = {api->sc->sms_interval, api->sc->sms_hourly, api->sc->sms_daily,
                                api->sc->sms_client_daily};
    cnca_gw_response_t *resp;
    cnca_db_t *db;
    cnca_otp_result_t verdict;
    json_t *obj;
    int wait;
    apr_status_t rv;

    if (cnca_validate_mobile(&mobile, &msg, p, cnca_api_str(api, "mobile")) != APR_SUCCESS) {
        return cnca_api_invalid(api, "mobile", msg);
    }
    if (cnca_validate_digits(&captcha, &msg, p, cnca_api_str(api, "captcha"), 4, "图形验证码") !=
        APR_SUCCESS) {
        return cnca_api_invalid(api, "captcha", msg);
    }
    masked = cnca_api_mobile_detail(api, mobile);
    if (!sess->flow) {
        return cnca_api_fail(api, "wrong_step", "请先填写个人信息", NULL);
    }
    subject = cnca_api_subject(api);
    if (!cnca_flow_sms_allowed(sess, mobile, api->now, api->sc->face_max_age)) {
        return cnca_api_invalid(api, "mobile", "请使用您填写的手机号码获取验证码");
    }
    verdict = cnca_captcha_check(sess, p, &api->sc->key_otp, captcha, api->now);
    if (verdict != CNCA_OTP_OK) {
        cnca_api_audit(api, "captcha", verdict == CNCA_OTP_WRONG ? "wrong" : "expired",
                       sess->person_id, subject, masked);
    }
    /* the captcha is spent whatever the answer, and that is written before
     * the answer is told: of parallel answers to one captcha only the one
     * whose write lands is judged, the others learn nothing (conflict) */
    if ((rv = cnca_api_session_save(api)) != APR_SUCCESS) {
        return cnca_api_fail(api, rv == APR_EEXIST ? "conflict" : "lookup_failed", NULL, NULL);
    }
    if (verdict != CNCA_OTP_OK) {
        return cnca_api_fail(api, verdict == CNCA_OTP_WRONG ? "captcha_wrong" : "captcha_expired",
                             NULL, NULL);
    }
    if ((rv = cnca_api_db(&db, api)) != APR_SUCCESS ||
        (rv = cnca_sms_reserve(&wait, &reason, db, p, &limits, mobile_hash(api, mobile),
                               api->r->useragent_ip, api->now)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r,
                      "CNCA00051: SMS limits cannot be checked: refusing to send");
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    if (wait > 0) {
        cnca_api_audit(api, "sms.send", "refused", sess->person_id, subject,
                       apr_pstrcat(p, masked, " limit=", reason, NULL));
        apr_table_setn(api->r->err_headers_out, "Retry-After", apr_itoa(p, wait));
        obj = json_object();
        json_object_set_new(obj, "retry_after", json_integer(wait));
        return cnca_api_fail(api, "too_many_requests",
                             apr_psprintf(p, "操作过于频繁，请%d秒后再试", wait), obj);
    }
    if (cnca_random_digits(&code, p, CNCA_SMS_CODE_DIGITS) != APR_SUCCESS) {
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    /* the session knows the code before the phone does */
    cnca_sms_code_remember(sess, p, &api->sc->key_otp, mobile, code, api->now);
    if ((rv = cnca_api_session_save(api)) != APR_SUCCESS) {
        return cnca_api_fail(api, rv == APR_EEXIST ? "conflict" : "lookup_failed", NULL, NULL);
    }
    {
        const char *kv[] = {"mobile", mobile, "text",
                            cnca_sms_code_text(p, api->sc->sms_sign, code), NULL};
        rv = cnca_api_gateway(api, CNCA_GW_SMS_SEND, kv, (void **)&resp);
    }
    if (rv != APR_SUCCESS || resp->result != CNCA_GW_PASS) {
        const char *why = "";
        if (rv == APR_SUCCESS) {
            /* an answer, but no SMS: the transport failures are logged already */
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, api->r,
                          "CNCA00052: the gateway did not send the SMS: %s %s",
                          cnca_gw_result_name(resp->result),
                          resp->reason_code ? resp->reason_code : "-");
            why = apr_pstrcat(p, " reason=", resp->reason_code ? resp->reason_code : "-", NULL);
        }
        cnca_api_audit(api, "sms.send", "error", sess->person_id, subject,
                       apr_pstrcat(p, masked, why, NULL));
        return cnca_api_fail(api, "gateway_error", NULL, NULL);
    }
    cnca_api_audit(api, "sms.send", "ok", sess->person_id, subject, masked);
    obj = json_object();
    json_object_set_new(obj, "resend_after", json_integer(api->sc->sms_interval));
    return cnca_api_ok(api, obj);
}
