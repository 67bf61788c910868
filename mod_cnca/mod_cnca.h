/* The httpd glue's shared declarations: configuration, the per-request
 * context, and the helpers every API step uses. */
#ifndef MOD_CNCA_H
#define MOD_CNCA_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <jansson.h>

#include "cnca_audit.h"
#include "cnca_crypto.h"
#include "cnca_db.h"
#include "cnca_session.h"
#include "cnca_store.h"

APLOG_USE_MODULE(cnca);
extern module AP_MODULE_DECLARE_DATA cnca_module;

#define CNCA_UNSET -1

typedef struct cnca_srv_conf {
    /* sessions and memcached */
    const char *memcached;
    int session_timeout;
    int session_max_age;
    int cookie_secure;
    const char *cookie_name;
    /* keys */
    const char *master_key_file;
    cnca_key_t *master;
    cnca_key_t key_id_hash, key_id_enc, key_session, key_otp, key_private;
    /* what the pages show */
    const char *hotline;
    const char *pages_url;
    int sandbox;
    /* identity gateway */
    const char *gateway_url;
    const char *gateway_secret_file;
    const char *gateway_secret;
    int gateway_timeout_ms;
    const char *gateway_schema_file;
    /* certificate authority */
    const char *ca_cert_file;
    const char *ca_key_file;
    const char *key_alg_name;
    int key_alg; /* cnca_key_alg_t, from key_alg_name */
    int validity_days;
    const char *cert_subject;
    /* SMS */
    const char *sms_sign;
    int sms_interval;
    int sms_hourly;
    int sms_daily;
    int sms_client_daily;
    /* captcha and images */
    const char *captcha_font;
    apr_size_t sig_max_bytes;
    int sig_max_w, sig_max_h;
    int face_max_age;

    /* made at start-up / per child */
    cnca_store_t *store;
    cnca_session_ctx_t session_ctx;
    void *gateway; /* cnca_gw_client_t */
    void *schema;  /* cnca_gw_schema_t */
    void *ca;      /* cnca_ca_t */
    cnca_audit_queue_t *audit_queue;
} cnca_srv_conf_t;

/* One API request. */
typedef struct {
    request_rec *r;
    cnca_srv_conf_t *sc;
    const char *base;  /* the API location, e.g. "/cnca/api" */
    const char *route; /* path below the API location, e.g. "/session" */
    cnca_session_t *sess;
    cnca_db_t *db; /* acquired lazily by cnca_api_db() */
    json_t *body;  /* parsed JSON body of a POST */
    apr_int64_t now;
    int responded; /* a response has been written */
    int rotated;   /* the session got a new id (and CSRF token) */
} cnca_api_t;

/* mod_cnca_config.c */
extern const command_rec cnca_cmds[];
void *cnca_create_srv_conf(apr_pool_t *p, server_rec *s);
void *cnca_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);
cnca_srv_conf_t *cnca_srv_conf(server_rec *s);
/* applies defaults to unset fields (after merging) */
void cnca_conf_finish(cnca_srv_conf_t *sc);
const char *cnca_conf_check(cnca_srv_conf_t *sc, apr_pool_t *p);

/* mod_cnca_dbd.c */
void cnca_dbd_register(void);
int cnca_dbd_prepare_all(server_rec *s, apr_pool_t *ptemp);
int cnca_dbd_mutex_create(server_rec *s, apr_pool_t *pconf);
void cnca_dbd_mutex_child_init(server_rec *s, apr_pool_t *pchild);
apr_status_t cnca_api_db(cnca_db_t **pdb, cnca_api_t *api);

/* mod_cnca_api.c: responses */
int cnca_api_ok(cnca_api_t *api, json_t *obj);
int cnca_api_fail(cnca_api_t *api, const char *code, const char *message, json_t *extra);
int cnca_api_invalid(cnca_api_t *api, const char *field, const char *message);
int cnca_api_fail_reason(cnca_api_t *api, const char *code, const char *reason);
const char *cnca_error_message_for(cnca_api_t *api, const char *code, const char *reason);
void cnca_api_headers(request_rec *r, int personal);
const char *cnca_api_str(cnca_api_t *api, const char *field);
apr_status_t cnca_api_read_body(cnca_api_t *api, apr_size_t max, const char **pdata,
                                apr_size_t *plen);
void cnca_api_set_cookie(cnca_api_t *api);
apr_status_t cnca_api_session_save(cnca_api_t *api);
void cnca_api_audit(cnca_api_t *api, const char *event, const char *outcome, apr_int64_t person_id,
                    const char *subject, const char *detail);
/* The audit subject of the flow in progress: the keyed hash of its ID
 * number (NULL when there is none). */
const char *cnca_api_subject(cnca_api_t *api);
/* An audit detail naming a mobile, masked: "mobile=138****5678". */
const char *cnca_api_mobile_detail(cnca_api_t *api, const char *mobile);
int cnca_api_handler(request_rec *r);

apr_status_t cnca_api_login(cnca_api_t *api, apr_int64_t person_id);
int cnca_api_send(cnca_api_t *api, const char *type, const void *data, apr_size_t len);
int cnca_api_redirect(cnca_api_t *api, const char *page, int failed);
/* mod_cnca_api_confirm.c: makes mobile the holder's verified mobile (one
 * transaction with its audit row), tells the old number, answers next me */
int cnca_api_change_mobile(cnca_api_t *api, const char *mobile);

/* mod_cnca_gateway.c: one gateway call with the operator's log line and the
 * audit row; APR_SUCCESS with an answer (pass, fail or error) or a failure
 * that the caller answers as gateway_error */
struct cnca_gw_response_t;
apr_status_t cnca_api_gateway(cnca_api_t *api, const char *type, const char *const *kv,
                              void **presp);

/* the steps: mod_cnca_api_*.c */
int cnca_step_session(cnca_api_t *api);
int cnca_step_logout(cnca_api_t *api);
int cnca_step_apply(cnca_api_t *api);
int cnca_step_login(cnca_api_t *api);
int cnca_step_captcha(cnca_api_t *api);
int cnca_step_sms(cnca_api_t *api);
int cnca_step_verify_mobile(cnca_api_t *api);
int cnca_step_verify_bank(cnca_api_t *api);
int cnca_step_face_start(cnca_api_t *api);
int cnca_step_face_return(cnca_api_t *api);
int cnca_step_confirm(cnca_api_t *api);
int cnca_step_me(cnca_api_t *api);
int cnca_step_me_certificate(cnca_api_t *api);
int cnca_step_me_signature_png(cnca_api_t *api);
int cnca_step_me_signature(cnca_api_t *api);
int cnca_step_me_mobile(cnca_api_t *api);

#endif
