/* POST /face/start and GET /face/return: face verification is a redirect
 * to the gateway's page; the result is fetched server to server and the
 * browser's word is never taken (manual 3.1 step 5). */
#include "mod_cnca.h"

#include <apr_strings.h>
#include <http_protocol.h>
#include <http_core.h>
#include <util_script.h>

#include "cnca_flow.h"
#include "cnca_gateway.h"
#include "cnca_person.h"

int cnca_step_face_start(cnca_api_t *api)
{
    cnca_session_t *sess = api->sess;
    cnca_gw_response_t *resp;
    const char *token, *url, *back;
    json_t *obj;
    apr_status_t rv;

    if (!cnca_flow_identity_proven(sess)) {
        return cnca_api_fail(api, "wrong_step",
                             sess->flow ? "请先完成手机实名认证或银行卡认证" : "请先填写个人信息",
                             NULL);
    }
    back = ap_construct_url(api->r->pool,
                            apr_pstrcat(api->r->pool, api->base, "/face/return", NULL), api->r);
    {
        const char *kv[] = {"name",       sess->name, "id-number", sess->id_number,
                            "return-url", back,       NULL};
        rv = cnca_api_gateway(api, CNCA_GW_FACE_START, kv, (void **)&resp);
    }
    token = rv == APR_SUCCESS ? apr_table_get(resp->fields, "token") : NULL;
    url = rv == APR_SUCCESS ? apr_table_get(resp->fields, "url") : NULL;
    if (rv != APR_SUCCESS || resp->result != CNCA_GW_PASS || !token || !url) {
        /* manual 6.7 "face auth accor error" */
        cnca_api_audit(api, "face.start", rv == APR_SUCCESS ? "fail" : "error", sess->person_id,
                       cnca_api_subject(api),
                       rv == APR_SUCCESS && resp->reason_code ? resp->reason_code : NULL);
        return cnca_api_fail(api, "face_start_failed", NULL, NULL);
    }
    sess->face_token = apr_pstrdup(api->r->pool, token);
    sess->face_started = api->now;
    sess->face_status = NULL;
    sess->face_message = NULL;
    sess->dirty = 1;
    cnca_api_audit(api, "face.start", "ok", sess->person_id, cnca_api_subject(api), NULL);
    obj = json_object();
    json_object_set_new(obj, "redirect", json_string(url));
    return cnca_api_ok(api, obj);
}

static int face_failed(cnca_api_t *api, const char *outcome, const char *reason,
                       const char *message)
{
    api->sess->face_status = "fail";
    api->sess->face_message = message;
    api->sess->dirty = 1;
    cnca_api_audit(api, "proof.face", outcome, api->sess->person_id, cnca_api_subject(api), reason);
    return cnca_api_redirect(api, "face.html", 1);
}

int cnca_step_face_return(cnca_api_t *api)
{
    cnca_session_t *sess = api->sess;
    const char *token = NULL, *name, *idn;
    apr_table_t *args = NULL;
    cnca_gw_response_t *resp;
    apr_status_t rv;

    ap_args_to_table(api->r, &args);
    token = args ? apr_table_get(args, "token") : NULL;
    if (!sess->flow || !sess->face_token) {
        return cnca_api_redirect(api, "index.html", 0);
    }
    if (!token || !cnca_str_equal_ct(token, sess->face_token)) {
        /* a token from another session, or none: this session's face check
         * is not done */
        return face_failed(api, "refused", "token", "人脸识别会话无效，请重新进行人脸识别");
    }
    sess->face_token = NULL; /* one result per face session */
    sess->dirty = 1;
    {
        const char *kv[] = {"token", token, NULL};
        rv = cnca_api_gateway(api, CNCA_GW_FACE_RESULT, kv, (void **)&resp);
    }
    if (rv != APR_SUCCESS || resp->result == CNCA_GW_ERROR) {
        /* manual 6.7: 人脸识别后，获取用户信息失败 */
        return face_failed(api, "error", "result", cnca_error_message_for(api, "face_error", NULL));
    }
    if (resp->result == CNCA_GW_FAIL) {
        return face_failed(
            api, "fail", resp->reason_code,
            cnca_error_message_for(api, "verify_failed",
                                   resp->reason_text ? resp->reason_text : "人脸识别未通过"));
    }
    name = apr_table_get(resp->fields, "name");
    idn = apr_table_get(resp->fields, "id-number");
    if (!name || !idn || strcmp(name, sess->name) || strcmp(idn, sess->id_number)) {
        return face_failed(api, "fail", "identity", "人脸识别的身份与申请信息不一致");
    }
    sess->proof_face_at = api->now;
    sess->face_status = "pass";
    sess->face_message = "人脸识别认证成功";
    cnca_api_audit(api, "proof.face", "pass", sess->person_id, cnca_api_subject(api),
                   apr_table_get(resp->fields, "score"));
    return cnca_api_redirect(api, "face-done.html", 0);
}
