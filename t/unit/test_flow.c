/* Unit tests for cnca_flow.c, the enrollment state machine (DESIGN.md):
 * which page a session stands at, that a proof counts only for the values
 * it proved, that starting a flow voids every earlier proof, and what the
 * confirm step refuses. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "tap.h"
#include "testlib.h"
#include "cnca_flow.h"

#define NOW 1700000000
#define FACE_MAX_AGE 600

#define NAME "张三"
#define ID_NUMBER "31010119900307123X"
#define MOBILE "13812345678"
#define OTHER_MOBILE "13987654321"

static cnca_session_t *fresh(apr_pool_t *p)
{
    return testlib_session(p, NOW);
}

/* An apply flow for MOBILE with every proof, the face at NOW: at confirm. */
static cnca_session_t *all_proven(apr_pool_t *p)
{
    cnca_session_t *sess = fresh(p);

    cnca_flow_start(sess, CNCA_FLOW_APPLY, NAME, ID_NUMBER, MOBILE);
    sess->proof_sms_mobile = MOBILE;
    sess->proof_carrier_mobile = MOBILE;
    sess->proof_face_at = NOW;
    return sess;
}

/* Every proof and pending check a session can hold, for the given mobile. */
static void fill_proofs(cnca_session_t *sess, const char *mobile)
{
    sess->captcha_hash = "captcha-hash";
    sess->captcha_exp = NOW + 300;
    sess->sms_hash = "sms-hash";
    sess->sms_mobile = mobile;
    sess->sms_exp = NOW + 300;
    sess->sms_tries = 2;
    sess->proof_sms_mobile = mobile;
    sess->proof_carrier_mobile = mobile;
    sess->proof_bank_mobile = mobile;
    sess->face_token = "face-token";
    sess->face_started = NOW - 60;
    sess->proof_face_at = NOW - 10;
    sess->face_status = "pass";
    sess->face_message = "认证通过";
}

static int no_proofs(const cnca_session_t *s)
{
    return !s->captcha_hash && !s->captcha_exp && !s->sms_hash && !s->sms_mobile && !s->sms_exp &&
           !s->sms_tries && !s->proof_sms_mobile && !s->proof_carrier_mobile &&
           !s->proof_bank_mobile && !s->face_token && !s->face_started && !s->proof_face_at &&
           !s->face_status && !s->face_message;
}

static void test_fresh(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);

    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "index", "fresh session: index");
    ok(!cnca_flow_sms_proven(sess), "fresh session: no SMS proof");
    ok(!cnca_flow_identity_proven(sess), "fresh session: no identity proof");
    ok(!cnca_flow_face_proven(sess, NOW, FACE_MAX_AGE), "fresh session: no face proof");

    sess->person_id = 42;
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "me", "logged in, no flow: me");

    /* proofs without a flow count for nothing */
    sess = fresh(p);
    fill_proofs(sess, NULL);
    sess->proof_face_at = NOW;
    ok(!cnca_flow_face_proven(sess, NOW, FACE_MAX_AGE), "a face proof without a flow: no");
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "index", "stray proofs, no flow: index");
}

static void test_start_voids(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);

    fill_proofs(sess, MOBILE);
    sess->person_id = 7;
    sess->login_at = NOW - 5;
    sess->dirty = 0;
    cnca_flow_start(sess, CNCA_FLOW_APPLY, NAME, ID_NUMBER, MOBILE);

    is_str(sess->flow, CNCA_FLOW_APPLY, "start: flow set");
    is_str(sess->name, NAME, "start: name set");
    is_str(sess->id_number, ID_NUMBER, "start: ID number set");
    is_str(sess->mobile, MOBILE, "start: mobile set");
    ok(no_proofs(sess), "start: every earlier proof and pending check is void");
    ok(sess->dirty, "start: session marked dirty");
    is_int(sess->person_id, 7, "start: login kept (a logged-in holder changes the mobile)");
    ok(sess->id && sess->csrf, "start: id and csrf kept");
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "apply-verify",
           "start: the flow stands at apply-verify, even for the same mobile");

    /* a second start for another person voids the first person's proofs */
    fill_proofs(sess, MOBILE);
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "confirm", "all proven: confirm");
    cnca_flow_start(sess, CNCA_FLOW_LOGIN, "李四", "110101199001011237", MOBILE);
    ok(no_proofs(sess), "restart for another identity: proofs void");
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "apply-verify",
           "restart for another identity: apply-verify");
    is_str(sess->flow, CNCA_FLOW_LOGIN, "restart: new flow kind");
    is_str(sess->name, "李四", "restart: new name");
}

static void test_progression(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);

    cnca_flow_start(sess, CNCA_FLOW_APPLY, NAME, ID_NUMBER, MOBILE);
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "apply-verify", "no proof: apply-verify");

    /* an SMS code sent but not yet entered proves nothing */
    sess->sms_hash = "h";
    sess->sms_mobile = MOBILE;
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "apply-verify",
           "SMS sent, not entered: apply-verify");

    /* a carrier or bank proof without the SMS proof is not enough */
    sess->proof_carrier_mobile = MOBILE;
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "apply-verify",
           "carrier proof without SMS proof: apply-verify");
    ok(!cnca_flow_identity_proven(sess), "carrier proof without SMS proof: identity not proven");
    sess->proof_carrier_mobile = NULL;

    sess->proof_sms_mobile = MOBILE;
    ok(cnca_flow_sms_proven(sess), "SMS proven");
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "bank", "SMS proven, no carrier/bank: bank");

    /* carrier or bank proof for another mobile does not count */
    sess->proof_carrier_mobile = OTHER_MOBILE;
    sess->proof_bank_mobile = OTHER_MOBILE;
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "bank",
           "carrier and bank proofs for another mobile: bank");
    ok(!cnca_flow_identity_proven(sess), "proofs for another mobile: identity not proven");

    /* carrier proof */
    sess->proof_carrier_mobile = MOBILE;
    ok(cnca_flow_identity_proven(sess), "carrier proof for the mobile: identity proven");
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "face", "carrier proven: face");

    /* or bank proof */
    sess->proof_carrier_mobile = NULL;
    sess->proof_bank_mobile = MOBILE;
    ok(cnca_flow_identity_proven(sess), "bank proof for the mobile: identity proven");
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "face", "bank proven: face");

    /* a face session started, or failed, is not a face proof */
    sess->face_token = "t";
    sess->face_started = NOW - 30;
    sess->face_status = "fail";
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "face", "face started/failed: still face");

    sess->proof_face_at = NOW - 5;
    sess->face_status = "pass";
    ok(cnca_flow_face_proven(sess, NOW, FACE_MAX_AGE), "face proven");
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "confirm", "face proven: confirm");

    /* a logged-in holder in a flow stands in the flow, not at me */
    sess->person_id = 9;
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "confirm", "logged in with a flow: the flow");
}

static void test_face_expiry(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = all_proven(p);

    ok(cnca_flow_face_proven(sess, NOW + FACE_MAX_AGE, FACE_MAX_AGE),
       "face proof exactly max_age old: counts");
    is_str(cnca_flow_step(sess, NOW + FACE_MAX_AGE, FACE_MAX_AGE), "confirm",
           "face proof exactly max_age old: confirm");
    ok(!cnca_flow_face_proven(sess, NOW + FACE_MAX_AGE + 1, FACE_MAX_AGE),
       "face proof max_age + 1 old: expired");
    is_str(cnca_flow_step(sess, NOW + FACE_MAX_AGE + 1, FACE_MAX_AGE), "face",
           "face proof expired: back to face");
    is_str(cnca_flow_confirm_refusal(sess, MOBILE, NOW + FACE_MAX_AGE + 1, FACE_MAX_AGE),
           "请先完成人脸识别认证", "face proof expired: confirm refused");
    ok(!cnca_flow_face_proven(sess, NOW + 5, 2), "a shorter max_age applies");
}

static void test_set_mobile(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = all_proven(p);

    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "confirm", "all proven for MOBILE: confirm");

    /* the same mobile, even as another string object: nothing changes */
    sess->dirty = 0;
    cnca_flow_set_mobile(sess, apr_pstrdup(p, MOBILE));
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "confirm", "same mobile again: still confirm");
    ok(!sess->dirty, "same mobile again: session not dirtied");
    is_str(sess->proof_sms_mobile, MOBILE, "same mobile again: SMS proof kept");

    /* another mobile: the proofs for the old one no longer count */
    cnca_flow_set_mobile(sess, OTHER_MOBILE);
    is_str(sess->mobile, OTHER_MOBILE, "another mobile: set");
    ok(sess->dirty, "another mobile: session dirty");
    ok(!cnca_flow_sms_proven(sess), "another mobile: SMS proof does not count");
    ok(!cnca_flow_identity_proven(sess), "another mobile: carrier proof does not count");
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "apply-verify",
           "another mobile: back to apply-verify");
    ok(cnca_flow_confirm_refusal(sess, OTHER_MOBILE, NOW, FACE_MAX_AGE) != NULL,
       "another mobile: confirm refused for it");
    ok(cnca_flow_confirm_refusal(sess, MOBILE, NOW, FACE_MAX_AGE) != NULL,
       "another mobile: confirm refused for the old one too");

    /* proving the new mobile brings the flow forward again */
    sess->proof_sms_mobile = OTHER_MOBILE;
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "bank", "new mobile SMS-proven: bank");
    sess->proof_bank_mobile = OTHER_MOBILE;
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "confirm",
           "new mobile bank-proven, face still fresh: confirm");
    ok(cnca_flow_confirm_refusal(sess, OTHER_MOBILE, NOW, FACE_MAX_AGE) == NULL,
       "new mobile fully proven: confirm allowed for it");

    /* the flow's mobile set to NULL: nothing counts */
    cnca_flow_set_mobile(sess, NULL);
    ok(!cnca_flow_sms_proven(sess), "no mobile: nothing proven");
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "apply-verify", "no mobile: apply-verify");
}

static void test_confirm_refusal(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);
    const char *r;

    r = cnca_flow_confirm_refusal(sess, MOBILE, NOW, FACE_MAX_AGE);
    is_str(r, "请先填写个人信息", "no flow: fill in your details first");

    cnca_flow_start(sess, CNCA_FLOW_APPLY, NAME, ID_NUMBER, MOBILE);
    r = cnca_flow_confirm_refusal(sess, MOBILE, NOW, FACE_MAX_AGE);
    is_str(r, "请先完成手机短信验证", "no SMS proof: SMS step first");

    /* every other proof but the SMS one: still the SMS step */
    sess->proof_carrier_mobile = MOBILE;
    sess->proof_bank_mobile = MOBILE;
    sess->proof_face_at = NOW;
    r = cnca_flow_confirm_refusal(sess, MOBILE, NOW, FACE_MAX_AGE);
    is_str(r, "请先完成手机短信验证", "all but SMS: SMS step first");

    sess->proof_carrier_mobile = NULL;
    sess->proof_bank_mobile = NULL;
    sess->proof_face_at = 0;
    sess->proof_sms_mobile = MOBILE;
    r = cnca_flow_confirm_refusal(sess, MOBILE, NOW, FACE_MAX_AGE);
    is_str(r, "请先完成手机实名认证或银行卡认证", "no carrier/bank proof: that step first");

    sess->proof_face_at = NOW;
    r = cnca_flow_confirm_refusal(sess, MOBILE, NOW, FACE_MAX_AGE);
    is_str(r, "请先完成手机实名认证或银行卡认证", "face but no carrier/bank: carrier/bank first");
    sess->proof_face_at = 0;

    sess->proof_carrier_mobile = MOBILE;
    r = cnca_flow_confirm_refusal(sess, MOBILE, NOW, FACE_MAX_AGE);
    is_str(r, "请先完成人脸识别认证", "no face proof: face step first");

    sess->proof_face_at = NOW;
    r = cnca_flow_confirm_refusal(sess, OTHER_MOBILE, NOW, FACE_MAX_AGE);
    is_str(r, "确认的手机号码与已验证的手机号码不一致", "confirming another mobile: refused");
    r = cnca_flow_confirm_refusal(sess, NULL, NOW, FACE_MAX_AGE);
    ok(r != NULL, "confirming no mobile: refused");
    r = cnca_flow_confirm_refusal(sess, "", NOW, FACE_MAX_AGE);
    ok(r != NULL, "confirming an empty mobile: refused");
    r = cnca_flow_confirm_refusal(sess, MOBILE "0", NOW, FACE_MAX_AGE);
    ok(r != NULL, "confirming the mobile with a digit more: refused");

    r = cnca_flow_confirm_refusal(sess, MOBILE, NOW, FACE_MAX_AGE);
    ok(r == NULL, "everything proven for the mobile: confirm allowed");
    r = cnca_flow_confirm_refusal(sess, apr_pstrdup(p, MOBILE), NOW, FACE_MAX_AGE);
    ok(r == NULL, "compares the mobile's text, not the pointer");

    /* the bank proof serves as well as the carrier's */
    sess->proof_carrier_mobile = NULL;
    sess->proof_bank_mobile = MOBILE;
    ok(cnca_flow_confirm_refusal(sess, MOBILE, NOW, FACE_MAX_AGE) == NULL,
       "bank instead of carrier proof: confirm allowed");
}

static void test_sms_allowed(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);

    ok(!cnca_flow_sms_allowed(sess, MOBILE, NOW, FACE_MAX_AGE), "SMS: no flow, no code");

    cnca_flow_start(sess, CNCA_FLOW_APPLY, NAME, ID_NUMBER, MOBILE);
    ok(cnca_flow_sms_allowed(sess, MOBILE, NOW, FACE_MAX_AGE),
       "SMS at apply-verify: to the flow's mobile");
    ok(cnca_flow_sms_allowed(sess, apr_pstrdup(p, MOBILE), NOW, FACE_MAX_AGE),
       "SMS: the mobile compared by text");
    ok(!cnca_flow_sms_allowed(sess, OTHER_MOBILE, NOW, FACE_MAX_AGE),
       "SMS at apply-verify: not to another mobile");
    ok(!cnca_flow_sms_allowed(sess, NULL, NOW, FACE_MAX_AGE), "SMS: not to no mobile");
    ok(!cnca_flow_sms_allowed(sess, "", NOW, FACE_MAX_AGE), "SMS: not to an empty mobile");

    sess->proof_sms_mobile = MOBILE; /* carrier said no: the bank step */
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "bank", "at the bank step");
    ok(cnca_flow_sms_allowed(sess, OTHER_MOBILE, NOW, FACE_MAX_AGE),
       "SMS at the bank step: to the bank-reserved mobile");
    ok(cnca_flow_sms_allowed(sess, MOBILE, NOW, FACE_MAX_AGE),
       "SMS at the bank step: to the flow's mobile too");
    ok(!cnca_flow_sms_allowed(sess, NULL, NOW, FACE_MAX_AGE), "SMS at the bank step: not to NULL");

    sess->proof_carrier_mobile = MOBILE;
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "face", "at the face step");
    ok(!cnca_flow_sms_allowed(sess, OTHER_MOBILE, NOW, FACE_MAX_AGE),
       "SMS at the face step: not to another mobile");
    sess->proof_face_at = NOW;
    ok(!cnca_flow_sms_allowed(sess, OTHER_MOBILE, NOW, FACE_MAX_AGE),
       "SMS at the confirm step: not to another mobile");
    ok(cnca_flow_sms_allowed(sess, MOBILE, NOW, FACE_MAX_AGE),
       "SMS at the confirm step: to the flow's mobile");

    cnca_flow_end(sess);
    ok(!cnca_flow_sms_allowed(sess, MOBILE, NOW, FACE_MAX_AGE), "SMS: flow ended, no code");
}

static void test_end(void)
{
    apr_pool_t *p = tap_pool();
    cnca_session_t *sess = fresh(p);

    cnca_flow_start(sess, CNCA_FLOW_CHANGE_MOBILE, NAME, ID_NUMBER, MOBILE);
    fill_proofs(sess, MOBILE);
    sess->person_id = 3;
    sess->dirty = 0;
    cnca_flow_end(sess);
    ok(!sess->flow && !sess->name && !sess->id_number && !sess->mobile,
       "end: flow, name, ID number and mobile cleared");
    ok(no_proofs(sess), "end: every proof and pending check cleared");
    ok(sess->dirty, "end: session dirty");
    is_int(sess->person_id, 3, "end: the login stays");
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "me", "end, logged in: me");
    ok(cnca_flow_confirm_refusal(sess, MOBILE, NOW, FACE_MAX_AGE) != NULL, "end: confirm refused");

    sess->person_id = 0;
    is_str(cnca_flow_step(sess, NOW, FACE_MAX_AGE), "index", "end, not logged in: index");
}

int main(void)
{
    test_fresh();
    test_start_voids();
    test_progression();
    test_face_expiry();
    test_set_mobile();
    test_confirm_refusal();
    test_sms_allowed();
    test_end();
    return tap_done();
}
