#include <string.h>

#include <apr_strings.h>

#include "cnca_flow.h"

static int same(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static void void_proofs(cnca_session_t *sess)
{
    sess->captcha_hash = NULL;
    sess->captcha_exp = 0;
    sess->sms_hash = NULL;
    sess->sms_mobile = NULL;
    sess->sms_exp = 0;
    sess->sms_tries = 0;
    sess->proof_sms_mobile = NULL;
    sess->proof_carrier_mobile = NULL;
    sess->proof_bank_mobile = NULL;
    sess->face_token = NULL;
    sess->face_started = 0;
    sess->proof_face_at = 0;
    sess->face_status = NULL;
    sess->face_message = NULL;
}

void cnca_flow_start(cnca_session_t *sess, const char *flow, const char *name,
                     const char *id_number, const char *mobile)
{
    void_proofs(sess);
    sess->flow = flow;
    sess->name = name;
    sess->id_number = id_number;
    sess->mobile = mobile;
    sess->dirty = 1;
}

void cnca_flow_set_mobile(cnca_session_t *sess, const char *mobile)
{
    if (!same(sess->mobile, mobile)) {
        sess->mobile = mobile;
        /* the face check proved the person, not the phone: it stays, but the
         * confirm step still needs SMS and carrier/bank proofs for this mobile */
        sess->dirty = 1;
    }
}

void cnca_flow_end(cnca_session_t *sess)
{
    void_proofs(sess);
    sess->flow = NULL;
    sess->name = NULL;
    sess->id_number = NULL;
    sess->mobile = NULL;
    sess->dirty = 1;
}

int cnca_flow_sms_proven(const cnca_session_t *sess)
{
    return sess->flow && same(sess->proof_sms_mobile, sess->mobile);
}

int cnca_flow_identity_proven(const cnca_session_t *sess)
{
    return cnca_flow_sms_proven(sess) && (same(sess->proof_carrier_mobile, sess->mobile) ||
                                          same(sess->proof_bank_mobile, sess->mobile));
}

int cnca_flow_face_proven(const cnca_session_t *sess, apr_int64_t now, int max_age)
{
    return sess->flow && sess->proof_face_at > 0 && now - sess->proof_face_at <= max_age;
}

/* The steps of a flow in the order they are done: the first one not done
 * is where the flow stands, with the page that does it and the confirm
 * step's refusal while it is missing. */
enum { STEP_NO_FLOW, STEP_SMS, STEP_IDENTITY, STEP_FACE, STEP_DONE };

static const struct {
    const char *page;
    const char *refusal;
} steps[] = {
    [STEP_NO_FLOW] = {"index", "请先填写个人信息"},
    [STEP_SMS] = {"apply-verify", "请先完成手机短信验证"},
    [STEP_IDENTITY] = {"bank", "请先完成手机实名认证或银行卡认证"},
    [STEP_FACE] = {"face", "请先完成人脸识别认证"},
    [STEP_DONE] = {"confirm", NULL},
};

static int first_missing(const cnca_session_t *sess, apr_int64_t now, int face_max_age)
{
    if (!sess->flow) {
        return STEP_NO_FLOW;
    }
    if (!cnca_flow_sms_proven(sess)) {
        return STEP_SMS;
    }
    if (!cnca_flow_identity_proven(sess)) {
        return STEP_IDENTITY;
    }
    if (!cnca_flow_face_proven(sess, now, face_max_age)) {
        return STEP_FACE;
    }
    return STEP_DONE;
}

const char *cnca_flow_step(const cnca_session_t *sess, apr_int64_t now, int face_max_age)
{
    int step = first_missing(sess, now, face_max_age);

    if (step == STEP_NO_FLOW && sess->person_id > 0) {
        return "me";
    }
    return steps[step].page;
}

const char *cnca_flow_confirm_refusal(const cnca_session_t *sess, const char *mobile,
                                      apr_int64_t now, int face_max_age)
{
    int step = first_missing(sess, now, face_max_age);

    if (step != STEP_DONE) {
        return steps[step].refusal;
    }
    if (!same(mobile, sess->mobile)) {
        return "确认的手机号码与已验证的手机号码不一致";
    }
    return NULL;
}

int cnca_flow_sms_allowed(const cnca_session_t *sess, const char *mobile, apr_int64_t now,
                          int face_max_age)
{
    if (!sess->flow || !mobile) {
        return 0;
    }
    return same(mobile, sess->mobile) || first_missing(sess, now, face_max_age) == STEP_IDENTITY;
}
