/* The database through mod_dbd: statements prepared once at start-up, a
 * connection acquired per request (httpd's mod_session_dbd does the same). */
#include "mod_cnca.h"

#include <apr_optional.h>
#include <http_log.h>
#include <mod_dbd.h>

static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) * dbd_prepare;
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire;

static void retrieve_fns(void)
{
    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
}

void cnca_dbd_register(void)
{
    ap_hook_optional_fn_retrieve(retrieve_fns, NULL, NULL, APR_HOOK_MIDDLE);
}

int cnca_dbd_prepare_all(server_rec *s, apr_pool_t *ptemp)
{
    const cnca_db_stmt_t *st;
    (void)ptemp;

    retrieve_fns();
    if (!dbd_prepare || !dbd_acquire) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CNCA00010: mod_dbd is not loaded: LoadModule dbd_module and set "
                     "DBDriver/DBDParams");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (st = cnca_db_statements; st->label; ++st) {
        dbd_prepare(s, st->sql, st->label);
    }
    return OK;
}

apr_status_t cnca_api_db(cnca_db_t **pdb, cnca_api_t *api)
{
    ap_dbd_t *dbd;

    if (api->db) {
        *pdb = api->db;
        return APR_SUCCESS;
    }
    *pdb = NULL;
    if (!dbd_acquire || !(dbd = dbd_acquire(api->r))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, api->r,
                      "CNCA00011: no database connection (see mod_dbd's messages)");
        return APR_EGENERAL;
    }
    api->db = apr_palloc(api->r->pool, sizeof(*api->db));
    api->db->driver = dbd->driver;
    api->db->handle = dbd->handle;
    api->db->prepared = dbd->prepared;
    *pdb = api->db;
    return APR_SUCCESS;
}
