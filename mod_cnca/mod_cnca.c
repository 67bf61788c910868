/* mod_cnca: the module record and its hooks. */
#include "mod_cnca.h"

#include <ap_mpm.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <string.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "cnca_ca.h"
#include "cnca_captcha.h"
#include "cnca_gateway.h"
#include "cnca_image.h"
#include "cnca_log.h"
#include "mod_cnca_no_files.h"

static server_rec *log_server;

static void log_sink(void *baton, const char *file, int line, cnca_log_level_t level,
                     apr_status_t rv, const char *msg)
{
    (void)baton;
    ap_log_error(file, line, APLOG_MODULE_INDEX, (int)level, rv, log_server, "%s", msg);
}

#define DEFAULT_SCHEMA "/usr/share/mod_cnca/conf/gateway.xsd"

/* Libraries that must be set up once, before any thread. */
static int libraries_init(const char *font)
{
    static int done;
    if (!done) {
        xmlInitParser();
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            return 0;
        }
        cnca_image_init();
        done = 1;
    }
    cnca_captcha_set_font(font ? font : CNCA_CAPTCHA_FONT);
    return 1;
}

/* What the service needs beyond the session store: the gateway (schema,
 * secret) and the CA, checked by issuing one certificate at start-up. */
static int setup_server(server_rec *s, cnca_srv_conf_t *sc, apr_pool_t *pconf, apr_pool_t *ptemp)
{
    const char *err = NULL;
    cnca_gw_schema_t *schema;
    cnca_ca_t *ca;

    if (!sc->gateway_url || !sc->gateway_secret) {
        err = "CNCAGatewayURL and CNCAGatewaySecretFile are required";
    } else if (!sc->ca_cert_file || !sc->ca_key_file) {
        err = "CNCACACertificateFile and CNCACAKeyFile are required";
    }
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "CNCA00004: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (cnca_gw_schema_load(&schema, pconf,
                            sc->gateway_schema_file ? sc->gateway_schema_file : DEFAULT_SCHEMA) !=
        APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CNCA00005: CNCAGatewaySchemaFile: cannot load %s",
                     sc->gateway_schema_file ? sc->gateway_schema_file : DEFAULT_SCHEMA);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    sc->schema = schema;
    if (cnca_ca_load(&ca, pconf, sc->ca_cert_file, sc->ca_key_file, &err) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CNCA00006: CNCACACertificateFile %s / "
                     "CNCACAKeyFile %s: %s",
                     sc->ca_cert_file, sc->ca_key_file, err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (cnca_ca_subject_check(sc->cert_subject, ptemp, &err) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "CNCA00007: CNCACertSubject: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (cnca_ca_self_check(ca, (cnca_key_alg_t)sc->key_alg, sc->validity_days, ptemp, &err) !=
        APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CNCA00008: the CA cannot issue %s certificates: %s",
                     cnca_key_alg_name((cnca_key_alg_t)sc->key_alg), err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    sc->ca = ca;
    return OK;
}

static int cnca_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    server_rec *sp;
    (void)plog;

    log_server = s;
    cnca_log_set_sink(log_sink, NULL);
    if (cnca_dbd_mutex_create(s, pconf) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
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
        if (!libraries_init(sc->captcha_font)) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, "CNCA00009: libcurl did not initialise");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (setup_server(sp, sc, pconf, ptemp) != OK || cnca_dbd_prepare_all(sp, ptemp) != OK) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

static void cnca_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *sp;

    cnca_dbd_mutex_child_init(s, pchild);
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
        rv = cnca_gw_client_create((cnca_gw_client_t **)&sc->gateway, pchild, sc->gateway_url,
                                   (const unsigned char *)sc->gateway_secret,
                                   strlen(sc->gateway_secret),
                                   apr_time_from_msec(sc->gateway_timeout_ms), sc->schema);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, sp,
                         "CNCA00012: cannot set up the gateway client for %s", sc->gateway_url);
        }
        if ((rv = cnca_audit_queue_create(&sc->audit_queue, pchild)) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, sp,
                         "CNCA00015: cannot set up the audit queue; audit rows are written one "
                         "by one");
        }
        sc->session_ctx.store = sc->store;
        sc->session_ctx.key = &sc->key_session;
        sc->session_ctx.idle_timeout = sc->session_timeout;
        sc->session_ctx.max_age = sc->session_max_age;
    }
}

static int cnca_translate_api(request_rec *r)
{
    return cnca_translate_no_files(r, "cnca-api");
}

static int cnca_map_api(request_rec *r)
{
    return cnca_map_no_files(r, "cnca-api");
}

static void cnca_register_hooks(apr_pool_t *p)
{
    static const char *const before_dbd[] = {"mod_dbd.c", NULL};
    (void)p;
    cnca_dbd_register();
    ap_hook_post_config(cnca_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(cnca_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    cnca_no_files_hooks(cnca_translate_api, cnca_map_api);
    ap_hook_handler(cnca_api_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

/* mod_cnca.h declares the log index (APLOG_USE_MODULE), so the record is
 * spelled out here instead of AP_DECLARE_MODULE. */
module AP_MODULE_DECLARE_DATA cnca_module = {
    STANDARD20_MODULE_STUFF, NULL, NULL, cnca_create_srv_conf, cnca_merge_srv_conf, cnca_cmds,
    cnca_register_hooks,     0,
};
