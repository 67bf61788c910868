/* GET /captcha: 4 digits drawn into a PNG; the answer stays in the session
 * as a keyed hash, single use, 5 minutes. */
#include "mod_cnca.h"

#include "cnca_captcha.h"
#include "cnca_otp.h"

int cnca_step_captcha(cnca_api_t *api)
{
    const char *answer;
    const void *png;
    apr_size_t len;

    if (cnca_captcha_answer(&answer, api->r->pool) != APR_SUCCESS ||
        cnca_captcha_png(&png, &len, api->r->pool, answer) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, api->r, "CNCA00050: could not draw a captcha");
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    cnca_captcha_remember(api->sess, api->r->pool, &api->sc->key_otp, answer, api->now);
    if (api->sc->sandbox) {
        apr_table_setn(api->r->headers_out, "X-CNCA-Sandbox-Captcha", answer);
    }
    return cnca_api_send(api, "image/png", png, len);
}
