/* mod_cnca: the module record and its hooks. */
#include "mod_cnca.h"

#include <ap_mpm.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "cnca_log.h"

static server_rec *log_server;

static void log_sink(void *baton, const char *file, int line, cnca_log_level_t level,
                     apr_status_t rv, const char *msg)
{
    (void)baton;
    ap_log_error(file, line, APLOG_MODULE_INDEX, (int)level, rv, log_server, "%s", msg);
}

static int cnca_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                            server_rec *s)
{
    server_rec *sp;
    (void)plog;
    (void)pconf;

    log_server = s;
    cnca_log_set_sink(log_sink, NULL);
    for (sp = s; sp; sp = sp->next) {
        cnca_srv_conf_t *sc = cnca_srv_conf(sp);
        cnca_conf_finish(sc);
        if (!sc->master) {
            continue; /* the API is not served here */
        }
        const char *err = cnca_conf_check(sc, ptemp);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, "CNCA00001: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (sc->sandbox && ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp,
                         "CNCA00002: CNCASandbox is On for %s: captcha answers are sent in a "
                         "header; never run a production service like this",
                         sp->server_hostname ? sp->server_hostname : "the server");
        }
        if (cnca_dbd_prepare_all(sp, ptemp) != OK) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

static void cnca_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        cnca_srv_conf_t *sc = cnca_srv_conf(sp);
        apr_status_t rv;
        int threads = 0;

        if (!sc->master || sc->store) {
            continue;
        }
        ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
        rv = cnca_store_create(&sc->store, pchild, sc->memcached, threads > 0 ? threads : 1);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, sp,
                         "CNCA00003: cannot set up the memcached pool for %s", sc->memcached);
        }
        sc->session_ctx.store = sc->store;
        sc->session_ctx.key = &sc->key_session;
        sc->session_ctx.idle_timeout = sc->session_timeout;
        sc->session_ctx.max_age = sc->session_max_age;
    }
}

static void cnca_register_hooks(apr_pool_t *p)
{
    static const char *const before_dbd[] = {"mod_dbd.c", NULL};
    (void)p;
    cnca_dbd_register();
    ap_hook_post_config(cnca_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(cnca_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(cnca_api_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

/* mod_cnca.h declares the log index (APLOG_USE_MODULE), so the record is
 * spelled out here instead of AP_DECLARE_MODULE. */
module AP_MODULE_DECLARE_DATA cnca_module = {
    STANDARD20_MODULE_STUFF, NULL, NULL, cnca_create_srv_conf, cnca_merge_srv_conf,
    cnca_cmds,               cnca_register_hooks,  0,
};
