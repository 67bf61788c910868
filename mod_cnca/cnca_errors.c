#include <string.h>

#include <apr_strings.h>

#include "cnca_errors.h"

const cnca_error_t cnca_errors[] = {
    {"invalid_input", 400, "输入的信息有误，请检查后重新提交"},
    {"captcha_wrong", 400, "图形验证码错误，请重新输入"},
    {"captcha_expired", 400, "图形验证码已过期，请重新获取"},
    {"sms_wrong", 400, "短信验证码错误"},
    {"sms_expired", 400, "短信验证码已失效，请重新获取"},
    {"too_many_requests", 429, "操作过于频繁，请稍后再试"},
    {"no_session", 401, "会话已过期，请重新开始"},
    {"not_logged_in", 401, "会话已过期，请重新开始"},
    {"csrf", 403, "请求无效，请刷新页面后重试"},
    {"wrong_step", 409, "请按步骤操作"},
    {"conflict", 409, "请求正在处理中，请勿重复提交"},
    {"has_certificate", 409, "您已取得上海建筑业个人数字证书，请选择“我已有证书”"},
    {"no_certificate", 404, "您尚未申请数字证书"},
    {"not_found", 404, "您访问的内容不存在"},
    {"method_not_allowed", 405, "不支持的请求方式"},
    {"too_large", 413, "提交的内容过大"},
    {"unsupported_media_type", 415, "提交的内容格式不正确"},
    {"verify_failed", 422, "认证失败：“REASON”。如有疑问，请拨打 HOTLINE。"},
    {"issue_failed", 503, "申请数字证书失败，请尝试重新采集或致电 HOTLINE 咨询！"},
    {"query_failed", 503, "查询证书信息出现异常，请尝试重新采集或致电 HOTLINE 咨询！"},
    {"lookup_failed", 503, "系统异常，请稍后重试！"},
    {"face_error", 503, "认证期间发生错误，请稍后再试！"},
    {"mobile_change_failed", 503, "修改手机号码失败，请重新修改或致电 HOTLINE 咨询！"},
    {"gateway_error", 502, "系统异常，请稍后重试！"},
    /* manual 6.7: a phone change whose submission the checks could not take */
    {"change_submit_failed", 502,
     "申请数字证书失败，请确认您提交的信息。如有疑问，请拨打 HOTLINE。"},
    /* manual 6.7's two technical rows, with what they mean beside them */
    {"face_start_failed", 502,
     "face auth accor error（进入人脸识别环节时系统处理您的信息失败，请稍后重试或致电 HOTLINE "
     "咨询）"},
    {"mobile_update_failed", 503,
     "modify mobile accor error（人脸识别已通过，但修改手机号码失败，请重新修改或致电 HOTLINE "
     "咨询）"},
    {NULL, 0, NULL},
};

const cnca_error_t *cnca_error_find(const char *code)
{
    const cnca_error_t *e;
    for (e = cnca_errors; code && e->code; ++e) {
        if (!strcmp(e->code, code)) {
            return e;
        }
    }
    return NULL;
}

static const char *replace(apr_pool_t *p, const char *s, const char *what, const char *with)
{
    const char *hit = strstr(s, what);
    if (!hit) {
        return s;
    }
    return apr_pstrcat(p, apr_pstrndup(p, s, hit - s), with, hit + strlen(what), NULL);
}

const char *cnca_error_message(apr_pool_t *p, const char *code, const char *hotline,
                               const char *reason)
{
    const cnca_error_t *e = cnca_error_find(code);
    const char *msg = e ? e->message : "系统异常，请稍后重试！";

    msg = replace(p, msg, "HOTLINE", hotline ? hotline : "962600");
    return replace(p, msg, "REASON", reason ? reason : "");
}
