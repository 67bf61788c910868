/* POST /confirm {mobile}: the applicant confirms the certificate mobile
 * (manual 3.1 step 6-7, 3.2 step 8); the certificate is issued, or, for a
 * holder, the new mobile becomes the verified one (manual 4, FAQ 4). */
#include "mod_cnca.h"

#include <apr_strings.h>

#include "cnca_enroll.h"
#include "cnca_flow.h"
#include "cnca_gateway.h"
#include "cnca_mask.h"
#include "cnca_person.h"
#include "cnca_validate.h"

#define MSG_ACCEPTED "您的证书申请已受理，证书正在签发中。请设置您的个性签名图片"
#define BUSY_SECONDS 60

/* The audit row written in one transaction with the change it records. */
static cnca_audit_t change_audit(cnca_api_t *api, const char *event, apr_int64_t person_id,
                                 const char *subject, const char *mobile)
{
    cnca_audit_t audit = {api->now, api->r->useragent_ip, event, "ok", person_id, subject, NULL};

    audit.detail = cnca_api_mobile_detail(api, mobile);
    return audit;
}

/* Claims the session for one confirm: of two parallel confirms, one wins the
 * compare-and-swap and the other is told so. */
static apr_status_t claim(cnca_api_t *api)
{
    if (api->sess->busy_until > api->now) {
        return APR_EEXIST;
    }
    api->sess->busy_until = api->now + BUSY_SECONDS;
    api->sess->dirty = 1;
    return cnca_api_session_save(api);
}

static void release(cnca_api_t *api)
{
    api->sess->busy_until = 0;
    api->sess->dirty = 1;
}

static int issue(cnca_api_t *api, const char *mobile, const char *subject)
{
    cnca_session_t *sess = api->sess;
    cnca_srv_conf_t *sc = api->sc;
    cnca_enroll_ctx_t ctx = {
        &sc->key_id_enc,   &sc->key_private, sc->ca, (cnca_key_alg_t)sc->key_alg,
        sc->validity_days, sc->cert_subject};
    cnca_applicant_t who = {sess->name, sess->id_number, subject, mobile};
    cnca_audit_t audit = change_audit(api, "issue", 0, subject, mobile);
    cnca_enrolled_t *done = NULL;
    cnca_db_t *db;
    json_t *obj;
    apr_status_t rv;

    if ((rv = cnca_api_db(&db, api)) == APR_SUCCESS) {
        rv = cnca_enroll_issue(&done, &ctx, db, api->r->pool, &who, &audit, api->now);
    }
    release(api);
    if (rv == APR_EEXIST) {
        cnca_api_audit(api, "issue", "has_certificate", 0, subject, NULL);
        obj = json_object();
        json_object_set_new(obj, "next", json_string("login"));
        return cnca_api_fail(api, "has_certificate", NULL, obj);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r,
                      "CNCA00070: no certificate was issued (see the lines above)");
        cnca_api_audit(api, "issue", "error", 0, subject, NULL);
        return cnca_api_fail(api, "issue_failed", NULL, NULL);
    }
    cnca_flow_end(sess);
    sess->just_enrolled = 1;
    if (cnca_api_login(api, done->person_id) != APR_SUCCESS) {
        /* the certificate is kept; the holder logs in with 我已有证书 */
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    obj = json_object();
    json_object_set_new(obj, "next", json_string("signature"));
    json_object_set_new(obj, "serial", json_string(done->serial));
    json_object_set_new(obj, "message", json_string(MSG_ACCEPTED));
    return cnca_api_ok(api, obj);
}

/* The old number is told of a phone change (best effort: the change is
 * already made). */
static void tell_old_number(cnca_api_t *api, const char *old_mobile, const char *mobile)
{
    apr_pool_t *p = api->r->pool;
    cnca_gw_response_t *resp;
    const char *text;

    if (!old_mobile || !strcmp(old_mobile, mobile)) {
        return;
    }
    text = apr_psprintf(
        p, "【%s】您的上海建筑业个人数字证书验证手机已变更为%s。如非本人操作，请致电%s。",
        api->sc->sms_sign, cnca_mask_mobile(p, mobile), api->sc->hotline);
    {
        const char *kv[] = {"mobile", old_mobile, "text", text, NULL};
        if (cnca_api_gateway(api, CNCA_GW_SMS_SEND, kv, (void **)&resp) != APR_SUCCESS ||
            resp->result != CNCA_GW_PASS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, api->r,
                          "CNCA00073: the old number was not told of the phone change");
        }
    }
}

/* After a stored phone change: the old number is told, the flow is over,
 * every other session of the holder ends and this one goes on logged in
 * under a new id. */
static apr_status_t after_change(cnca_api_t *api, apr_int64_t person_id, const char *old_mobile,
                                 const char *mobile)
{
    apr_status_t rv;

    tell_old_number(api, old_mobile, mobile);
    cnca_flow_end(api->sess);
    rv = cnca_session_end_person(&api->sc->session_ctx, api->r->pool, person_id, apr_time_now());
    if (rv == APR_SUCCESS) {
        rv = cnca_api_login(api, person_id);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r,
                      "CNCA00074: the holder's other sessions could not be ended");
    }
    return rv;
}

/* Login with a new mobile (FAQ 4): it becomes the verified one, as with a
 * phone change from the information page. */
static int login_new_mobile(cnca_api_t *api, const char *mobile, const char *subject)
{
    cnca_audit_t audit = change_audit(api, "mobile.change", 0, subject, mobile);
    cnca_person_t *person = NULL;
    cnca_db_t *db;
    json_t *obj;
    apr_status_t rv;

    if ((rv = cnca_api_db(&db, api)) == APR_SUCCESS &&
        (rv = cnca_person_find(&person, db, api->r->pool, subject)) == APR_SUCCESS) {
        audit.person_id = person->id;
        rv = cnca_holder_set_mobile(db, api->r->pool, person->id, mobile, &audit, api->now);
    }
    release(api);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r,
                      "CNCA00071: the new mobile could not be stored at login");
        cnca_api_audit(api, "mobile.change", "error", person ? person->id : 0, subject, NULL);
        return cnca_api_fail(api, "mobile_update_failed", NULL, NULL);
    }
    if (after_change(api, person->id, person->mobile, mobile) != APR_SUCCESS) {
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    cnca_api_audit(api, "login", "ok", person->id, subject, audit.detail);
    obj = json_object();
    json_object_set_new(obj, "next", json_string("me"));
    return cnca_api_ok(api, obj);
}

int cnca_api_change_mobile(cnca_api_t *api, const char *mobile)
{
    apr_pool_t *p = api->r->pool;
    cnca_session_t *sess = api->sess;
    cnca_audit_t audit =
        change_audit(api, "mobile.change", sess->person_id, cnca_api_subject(api), mobile);
    cnca_holder_t *holder = NULL;
    cnca_db_t *db;
    json_t *obj;
    apr_status_t rv;

    if ((rv = cnca_api_db(&db, api)) == APR_SUCCESS &&
        (rv = cnca_holder_load(&holder, db, p, &api->sc->key_id_enc, sess->person_id)) ==
            APR_SUCCESS) {
        rv = cnca_holder_set_mobile(db, p, sess->person_id, mobile, &audit, api->now);
    }
    release(api);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r,
                      "CNCA00072: the phone change could not be stored");
        cnca_api_audit(api, "mobile.change", "error", sess->person_id, audit.subject, NULL);
        return cnca_api_fail(api,
                             cnca_flow_face_proven(sess, api->now, api->sc->face_max_age)
                                 ? "mobile_update_failed"
                                 : "mobile_change_failed",
                             NULL, NULL);
    }
    if (after_change(api, sess->person_id, holder->mobile, mobile) != APR_SUCCESS) {
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    obj = json_object();
    json_object_set_new(obj, "next", json_string("me"));
    return cnca_api_ok(api, obj);
}

int cnca_step_confirm(cnca_api_t *api)
{
    cnca_session_t *sess = api->sess;
    const char *mobile, *msg, *refusal, *subject;
    apr_status_t rv;

    if (cnca_validate_mobile(&mobile, &msg, api->r->pool, cnca_api_str(api, "mobile")) !=
        APR_SUCCESS) {
        return cnca_api_invalid(api, "mobile", msg);
    }
    refusal = cnca_flow_confirm_refusal(sess, mobile, api->now, api->sc->face_max_age);
    if (refusal) {
        if (sess->id_number) {
            cnca_api_audit(api, "confirm", "wrong_step", sess->person_id, cnca_api_subject(api),
                           NULL);
        }
        return cnca_api_fail(api, "wrong_step", refusal, NULL);
    }
    if ((rv = claim(api)) != APR_SUCCESS) {
        return cnca_api_fail(api, rv == APR_EGENERAL ? "lookup_failed" : "conflict", NULL, NULL);
    }
    subject = cnca_api_subject(api);
    if (!strcmp(sess->flow, CNCA_FLOW_APPLY)) {
        return issue(api, mobile, subject);
    }
    if (!strcmp(sess->flow, CNCA_FLOW_LOGIN)) {
        return login_new_mobile(api, mobile, subject);
    }
    return cnca_api_change_mobile(api, mobile);
}
