/* Calls to the identity gateway from the steps: the operator's log line
 * and the audit row for every failure; never a pass on a failure. */
#include "mod_cnca.h"

#include <apr_strings.h>

#include "cnca_gateway.h"

apr_status_t cnca_api_gateway(cnca_api_t *api, const char *type, const char *const *kv,
                              void **presp)
{
    cnca_gw_response_t *resp = NULL;
    const char *cause = NULL;
    apr_status_t rv;

    *presp = NULL;
    if (!api->sc->gateway) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, api->r,
                      "CNCA00040: no gateway client in this process (see CNCA00012)");
        cnca_api_audit(api, apr_pstrcat(api->r->pool, "gateway.", type, NULL), "error", 0, NULL,
                       "no client");
        return APR_EGENERAL;
    }
    rv = cnca_gw_call(&resp, &cause, api->sc->gateway, api->r->pool, type, kv);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r, "CNCA00041: gateway %s failed: %s", type,
                      cause ? cause : "unknown cause");
        cnca_api_audit(api, apr_pstrcat(api->r->pool, "gateway.", type, NULL), "error",
                       api->sess ? api->sess->person_id : 0, NULL,
                       rv == APR_TIMEUP ? "timeout" : "transport");
        return rv;
    }
    if (resp->result == CNCA_GW_ERROR) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, api->r,
                      "CNCA00042: gateway %s answered error %s", type,
                      resp->reason_code ? resp->reason_code : "-");
    }
    *presp = resp;
    return APR_SUCCESS;
}
