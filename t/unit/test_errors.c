/* Unit tests for cnca_errors.c: every error code of API.md with its HTTP
 * status and the message the page shows; the messages of the manual's
 * section 7 (异常提示说明) word for word; HOTLINE and REASON filled in. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "tap.h"
#include "cnca_errors.h"

/* API.md "Error codes": code, HTTP status, and the message where API.md
 * gives one in full (HOTLINE and REASON as placeholders); NULL where it only
 * says what the message is about. */
static const struct {
    const char *code;
    int status;
    const char *message;
} api[] = {
    {"invalid_input", 400, NULL},
    {"captcha_wrong", 400, NULL},
    {"captcha_expired", 400, NULL},
    {"sms_wrong", 400, "短信验证码错误"},
    {"sms_expired", 400, "短信验证码已失效，请重新获取"},
    {"too_many_requests", 429, NULL},
    {"no_session", 401, "会话已过期，请重新开始"},
    {"not_logged_in", 401, "会话已过期，请重新开始"},
    {"csrf", 403, NULL},
    {"wrong_step", 409, NULL},
    {"has_certificate", 409, "您已取得上海建筑业个人数字证书，请选择“我已有证书”"},
    {"no_certificate", 404, "您尚未申请数字证书"},
    {"verify_failed", 422, "认证失败：“REASON”。如有疑问，请拨打 HOTLINE。"},
    {"issue_failed", 503, "申请数字证书失败，请尝试重新采集或致电 HOTLINE 咨询！"},
    {"query_failed", 503, "查询证书信息出现异常，请尝试重新采集或致电 HOTLINE 咨询！"},
    {"lookup_failed", 503, "系统异常，请稍后重试！"},
    {"face_error", 503, "认证期间发生错误，请稍后再试！"},
    {"mobile_change_failed", 503, "修改手机号码失败，请重新修改或致电 HOTLINE 咨询！"},
    {"gateway_error", 502, "系统异常，请稍后重试！"},
};

#define N_API (sizeof(api) / sizeof(api[0]))

static void test_api_codes(void)
{
    apr_pool_t *p = tap_pool();
    apr_size_t i;

    for (i = 0; i < N_API; ++i) {
        const cnca_error_t *e = cnca_error_find(api[i].code);

        ok(e != NULL, apr_psprintf(p, "%s is in the table", api[i].code));
        if (!e) {
            continue;
        }
        is_str(e->code, api[i].code,
               apr_psprintf(p, "%s: the entry found is its own", api[i].code));
        is_int(e->status, api[i].status,
               apr_psprintf(p, "%s: HTTP %d", api[i].code, api[i].status));
        ok(e->message && *e->message, apr_psprintf(p, "%s: has a message", api[i].code));
        if (api[i].message) {
            is_str(e->message, api[i].message,
                   apr_psprintf(p, "%s: the message API.md gives", api[i].code));
        }
    }
}

/* The messages API.md gives only in part (图形验证码错误 / 已过期，请重新获取),
 * as the page shows them. */
static void test_partial_messages(void)
{
    apr_pool_t *p = tap_pool();

    is_str(cnca_error_message(p, "captcha_wrong", NULL, NULL), "图形验证码错误，请重新输入",
           "captcha_wrong: 图形验证码错误，请重新输入");
    is_str(cnca_error_message(p, "captcha_expired", NULL, NULL), "图形验证码已过期，请重新获取",
           "captcha_expired: 图形验证码已过期，请重新获取");
    ok(strcmp(cnca_error_message(p, "captcha_wrong", NULL, NULL),
              cnca_error_message(p, "captcha_expired", NULL, NULL)),
       "captcha_wrong and captcha_expired say different things");
    ok(strcmp(cnca_error_message(p, "sms_wrong", NULL, NULL),
              cnca_error_message(p, "sms_expired", NULL, NULL)),
       "sms_wrong and sms_expired say different things");
}

/* Manual section 7 "异常提示说明", with the manual's hotline 962600. The
 * manual's "XXXXXX" stands for the reason. */
static void test_manual_messages(void)
{
    apr_pool_t *p = tap_pool();

    is_str(cnca_error_message(p, "issue_failed", "962600", NULL),
           "申请数字证书失败，请尝试重新采集或致电 962600 咨询！", "manual 7: issue_failed");
    is_str(cnca_error_message(p, "verify_failed", "962600", "XXXXXX"),
           "认证失败：“XXXXXX”。如有疑问，请拨打 962600。", "manual 7: verify_failed");
    is_str(cnca_error_message(p, "query_failed", "962600", NULL),
           "查询证书信息出现异常，请尝试重新采集或致电 962600 咨询！", "manual 7: query_failed");
    is_str(cnca_error_message(p, "mobile_change_failed", "962600", NULL),
           "修改手机号码失败，请重新修改或致电 962600 咨询！", "manual 7: mobile_change_failed");
    is_str(cnca_error_message(p, "face_error", "962600", NULL), "认证期间发生错误，请稍后再试！",
           "manual 7: face_error");
    is_str(cnca_error_message(p, "lookup_failed", "962600", NULL), "系统异常，请稍后重试！",
           "manual 7: lookup_failed");
    is_str(cnca_error_message(p, "gateway_error", "962600", NULL), "系统异常，请稍后重试！",
           "gateway_error: the manual's system error");
    /* the manual's two technical rows: shown as the manual has them, with
     * an explanation (and the hotline filled in) after them */
    is_str(cnca_error_message(p, "face_start_failed", "962600", NULL),
           "face auth accor error（进入人脸识别环节时系统处理您的信息失败，请稍后重试或致电 962600 "
           "咨询）",
           "manual 7: face_start_failed shows 'face auth accor error'");
    is_str(cnca_error_message(p, "mobile_update_failed", "962600", NULL),
           "modify mobile accor error（人脸识别已通过，但修改手机号码失败，请重新修改或致电 962600 "
           "咨询）",
           "manual 7: mobile_update_failed shows 'modify mobile accor error', hotline filled in");
    /* manual 6.7: a phone change whose submission the checks could not take */
    is_str(cnca_error_message(p, "change_submit_failed", "962600", NULL),
           "申请数字证书失败，请确认您提交的信息。如有疑问，请拨打 962600。",
           "manual 6.7: change_submit_failed");
    {
        static const struct {
            const char *code;
            int status;
        } manual[] = {{"face_start_failed", 502},
                      {"mobile_update_failed", 503},
                      {"change_submit_failed", 502}};
        apr_size_t i;

        for (i = 0; i < sizeof(manual) / sizeof(manual[0]); ++i) {
            const cnca_error_t *e = cnca_error_find(manual[i].code);
            is_int(e ? e->status : 0, manual[i].status,
                   apr_psprintf(p, "%s: HTTP %d", manual[i].code, manual[i].status));
        }
    }
}

static void test_substitution(void)
{
    apr_pool_t *p = tap_pool();
    const cnca_error_t *e;

    is_str(cnca_error_message(p, "verify_failed", "021-962600", "手机号码与身份信息不一致"),
           "认证失败：“手机号码与身份信息不一致”。如有疑问，请拨打 021-962600。",
           "verify_failed with reason and hotline 021-962600");
    is_str(cnca_error_message(p, "issue_failed", "021-962600", NULL),
           "申请数字证书失败，请尝试重新采集或致电 021-962600 咨询！",
           "issue_failed with hotline 021-962600");
    is_str(cnca_error_message(p, "mobile_change_failed", "400 820 8888", "ignored"),
           "修改手机号码失败，请重新修改或致电 400 820 8888 咨询！",
           "mobile_change_failed with another hotline; a reason changes nothing");
    is_str(cnca_error_message(p, "issue_failed", NULL, NULL),
           "申请数字证书失败，请尝试重新采集或致电 962600 咨询！",
           "no hotline configured: API.md's default 962600");
    is_str(cnca_error_message(p, "no_certificate", "021-962600", "x"), "您尚未申请数字证书",
           "a message without placeholders is unchanged");
    /* the gateway's reason is the applicant's text: put in verbatim, even
     * when it holds the placeholder words */
    is_str(cnca_error_message(p, "verify_failed", "962600", "HOTLINE REASON"),
           "认证失败：“HOTLINE REASON”。如有疑问，请拨打 962600。",
           "a reason holding placeholder words is put in verbatim");

    /* filling in does not change the table */
    e = cnca_error_find("verify_failed");
    is_str(e ? e->message : NULL, "认证失败：“REASON”。如有疑问，请拨打 HOTLINE。",
           "the table entry still holds its placeholders afterwards");
}

static void test_table(void)
{
    apr_pool_t *p = tap_pool();
    apr_hash_t *seen = apr_hash_make(p);
    const cnca_error_t *e;
    int n = 0, dup = 0, bad_status = 0, empty = 0, left = 0;

    for (e = cnca_errors; e->code; ++e) {
        const char *m = cnca_error_message(p, e->code, "021-962600", "原因");
        ++n;
        if (apr_hash_get(seen, e->code, APR_HASH_KEY_STRING)) {
            ++dup;
            printf("#   duplicate code %s\n", e->code);
        }
        apr_hash_set(seen, e->code, APR_HASH_KEY_STRING, e);
        if (e->status < 400 || e->status > 599) {
            ++bad_status;
            printf("#   %s has HTTP %d\n", e->code, e->status);
        }
        if (!e->message || !*e->message) {
            ++empty;
        }
        if (!m || strstr(m, "HOTLINE") || strstr(m, "REASON")) {
            ++left;
            printf("#   %s: '%s'\n", e->code, m ? m : "(null)");
        }
        if (cnca_error_find(e->code) != e) {
            printf("#   cnca_error_find(%s) is another entry\n", e->code);
            ++dup;
        }
    }
    ok(n >= (int)N_API, "the table holds at least the codes of API.md");
    is_int(dup, 0, "no code twice in the table");
    is_int(bad_status, 0, "every status is a 4xx or 5xx");
    is_int(empty, 0, "every code has a message");
    is_int(left, 0, "no filled-in message keeps HOTLINE or REASON");
}

static void test_unknown(void)
{
    apr_pool_t *p = tap_pool();
    const char *m;

    ok(cnca_error_find("no_such_code") == NULL, "unknown code: not found");
    ok(cnca_error_find(NULL) == NULL, "NULL code: not found");
    ok(cnca_error_find("") == NULL, "empty code: not found");
    ok(cnca_error_find("INVALID_INPUT") == NULL, "codes are case-sensitive");

    m = cnca_error_message(p, "no_such_code", "021-962600", "x");
    ok(m && *m, "unknown code: a message");
    is_str(m, "系统异常，请稍后重试！", "unknown code: the manual's generic system error");
    is_str(cnca_error_message(p, NULL, NULL, NULL), "系统异常，请稍后重试！",
           "NULL code: the generic message");
}

int main(void)
{
    test_api_codes();
    test_partial_messages();
    test_manual_messages();
    test_substitution();
    test_table();
    test_unknown();
    return tap_done();
}
