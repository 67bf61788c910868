/* mod_cnca_sandbox: the development and test identity gateway (API.md,
 * "Sandbox"). Shared declarations of its files: configuration, the
 * database, the handlers of each route, and small response helpers.
 * Never load it on a production server. */
#ifndef MOD_CNCA_SANDBOX_H
#define MOD_CNCA_SANDBOX_H

#include <apr_hash.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <jansson.h>

#include "cnca_gateway.h"

APLOG_USE_MODULE(cnca_sandbox);
extern module AP_MODULE_DECLARE_DATA cnca_sandbox_module;

#define SANDBOX_HANDLER "cnca-sandbox"
#define SANDBOX_UNSET -1
#define SANDBOX_LATE_DEFAULT 10
#define SANDBOX_ASSETS_DEFAULT "/usr/share/mod_cnca/htdocs/sandbox"
#define SANDBOX_SCHEMA_DEFAULT "/usr/share/mod_cnca/conf/gateway.xsd"
/* Largest face capture accepted (the page scales photos down before). */
#define SANDBOX_CAPTURE_MAX (8 * 1024 * 1024)
/* Smallest capture that passes, in pixels each way. */
#define SANDBOX_FACE_MIN_SIDE 64
/* SMS the JSON and the inbox list. */
#define SANDBOX_SMS_LIMIT 50

/* A file of htdocs/sandbox, read at start-up. */
typedef struct {
    const char *name;
    const char *type;
    const char *data;
    apr_size_t len;
} sandbox_asset_t;

typedef struct {
    const char *secret_file;
    int late_seconds;
    const char *assets_dir;
    const char *schema_file;
    /* made at start-up */
    const unsigned char *secret;
    apr_size_t secret_len;
    cnca_gw_schema_t *schema;
    apr_hash_t *assets; /* name -> sandbox_asset_t */
} sandbox_conf_t;

/* One request to the sandbox. */
typedef struct {
    request_rec *r;
    const sandbox_conf_t *conf;
    const char *base; /* URL path the sandbox is mounted at, e.g. "/sandbox" */
} sandbox_req_t;

/* Database (mod_cnca_sandbox_store.c). Every function logs its own
 * failures and returns APR_EGENERAL on them. */
typedef struct {
    const char *behaviour;                 /* pass | fail | error | late */
    const char *reason_code, *reason_text; /* NULL: the default reason */
} sandbox_person_t;

typedef struct {
    const char *token, *name, *id_number, *return_url;
    const char *status; /* pending | pass | fail */
} sandbox_face_t;

typedef struct {
    const char *id, *mobile, *text, *at;
} sandbox_sms_t;

int sandbox_store_prepare(server_rec *s);
/* The row for subject and check type (an exact type before '*'); *pp NULL
 * when there is none. */
apr_status_t sandbox_person_find(sandbox_person_t **pp, request_rec *r, const char *subject,
                                 const char *type);
apr_status_t sandbox_sms_add(request_rec *r, const char *mobile, const char *text);
/* Newest first, at most SANDBOX_SMS_LIMIT; mobile NULL: every mobile. */
apr_status_t sandbox_sms_list(apr_array_header_t **plist, request_rec *r, const char *mobile);
apr_status_t sandbox_face_add(request_rec *r, const sandbox_face_t *f);
/* *pf NULL when the token is unknown. */
apr_status_t sandbox_face_find(sandbox_face_t **pf, request_rec *r, const char *token);
apr_status_t sandbox_face_set_status(request_rec *r, const char *token, const char *status);

/* Routes. Each checks its method, does its work and returns the status. */
int sandbox_gateway(sandbox_req_t *sr);      /* POST BASE/gateway */
int sandbox_face_page(sandbox_req_t *sr);    /* GET  BASE/face?token=T */
int sandbox_face_capture(sandbox_req_t *sr); /* POST BASE/face/capture?token=T */
int sandbox_sms_json(sandbox_req_t *sr);     /* GET  BASE/sms[?mobile=M] */
int sandbox_inbox_page(sandbox_req_t *sr);   /* GET  BASE/ */

/* Helpers (mod_cnca_sandbox.c). */
/* 405 with Allow when r's method is not `method` (M_GET also takes HEAD). */
int sandbox_method_is(request_rec *r, int method);
/* The request body, at most max bytes (413 past that), NUL-terminated. */
int sandbox_read_body(request_rec *r, apr_size_t max, const char **pbody, apr_size_t *plen);
/* A query parameter, or NULL. */
const char *sandbox_arg(request_rec *r, const char *name);
/* Sends an asset read at start-up (404 when it is not there). */
int sandbox_send_asset(sandbox_req_t *sr, const char *name, int status);
/* Sends j (and drops the reference) as the body, with `status`. */
int sandbox_send_json(request_rec *r, int status, json_t *j);
/* Security and cache headers for everything the sandbox sends. */
void sandbox_headers(request_rec *r, int html);
/* A session token: 32 lowercase hex characters, else NULL. */
const char *sandbox_token_arg(request_rec *r);

#endif
