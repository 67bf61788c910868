/* What the sandbox "sent" by SMS: GET BASE/sms[?mobile=M] as JSON, newest
 * first ([{id, mobile, text, at}]), for tests; GET BASE/ the inbox page
 * (htdocs/sandbox/inbox.html, which polls BASE/sms) for people. */
#include "mod_cnca_sandbox.h"

#include <apr_strings.h>
#include <http_protocol.h>

int sandbox_sms_json(sandbox_req_t *sr)
{
    request_rec *r = sr->r;
    const char *mobile;
    apr_array_header_t *list;
    json_t *arr;
    int rc, i;

    rc = sandbox_method_is(r, M_GET);
    if (rc != OK) {
        return rc;
    }
    mobile = sandbox_arg(r, "mobile");
    if (mobile && !*mobile) {
        mobile = NULL;
    }
    if (sandbox_sms_list(&list, r, mobile) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    arr = json_array();
    for (i = 0; arr && i < list->nelts; ++i) {
        const sandbox_sms_t *m = &APR_ARRAY_IDX(list, i, sandbox_sms_t);
        json_t *o =
            json_pack("{s:I, s:s?, s:s?, s:s?}", "id", (json_int_t)apr_atoi64(m->id ? m->id : "0"),
                      "mobile", m->mobile, "text", m->text, "at", m->at);
        if (!o || json_array_append_new(arr, o)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return sandbox_send_json(r, HTTP_OK, arr);
}

int sandbox_inbox_page(sandbox_req_t *sr)
{
    int rc = sandbox_method_is(sr->r, M_GET);

    return rc != OK ? rc : sandbox_send_asset(sr, "inbox.html", HTTP_OK);
}
