/* mod_cnca_sandbox: module record, directives, start-up, the one content
 * handler that dispatches the sandbox's routes, and response helpers. */
#include "mod_cnca_sandbox.h"

#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_script.h>

#include <libxml/parser.h>

#include "cnca_config.h"
#include "cnca_image.h"
#include "cnca_log.h"
#include "mod_cnca_no_files.h"

/* Pages and assets of htdocs/sandbox the handler serves; the last column
 * says whether BASE/static/NAME serves it (the pages have routes). */
static const struct {
    const char *name, *type;
    int is_static;
} asset_files[] = {
    {"face.html", "text/html; charset=utf-8", 0},
    {"face-expired.html", "text/html; charset=utf-8", 0},
    {"inbox.html", "text/html; charset=utf-8", 0},
    {"sandbox.css", "text/css; charset=utf-8", 1},
    {"face.js", "text/javascript; charset=utf-8", 1},
    {"inbox.js", "text/javascript; charset=utf-8", 1},
};

#define ASSET_MAX (256 * 1024)

#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "        \
    "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; "                 \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

static server_rec *log_server;

static void log_sink(void *baton, const char *file, int line, cnca_log_level_t level,
                     apr_status_t rv, const char *msg)
{
    (void)baton;
    ap_log_error(file, line, APLOG_MODULE_INDEX, (int)level, rv, log_server, "%s", msg);
}

/* Configuration */

static void *create_srv_conf(apr_pool_t *p, server_rec *s)
{
    sandbox_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->late_seconds = SANDBOX_UNSET;
    return c;
}

static void *merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    sandbox_conf_t *base = basev, *add = addv;
    sandbox_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->secret_file = add->secret_file ? add->secret_file : base->secret_file;
    c->late_seconds = add->late_seconds != SANDBOX_UNSET ? add->late_seconds : base->late_seconds;
    c->assets_dir = add->assets_dir ? add->assets_dir : base->assets_dir;
    c->schema_file = add->schema_file ? add->schema_file : base->schema_file;
    return c;
}

static sandbox_conf_t *srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &cnca_sandbox_module);
}

#define DIRECTIVE_SECRET "CNCASandboxSecretFile"
#define DIRECTIVE_LATE "CNCASandboxLateSeconds"
#define DIRECTIVE_ASSETS "CNCASandboxAssets"
#define DIRECTIVE_SCHEMA "CNCASandboxSchemaFile"

static const char *set_path(cmd_parms *cmd, void *dummy, const char *arg)
{
    sandbox_conf_t *c = srv_conf(cmd->server);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    const char *name = cmd->directive->directive;

    (void)dummy;
    if (!path || !*arg) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", name, arg);
    }
    if (!strcasecmp(name, DIRECTIVE_SECRET)) {
        c->secret_file = path;
    } else if (!strcasecmp(name, DIRECTIVE_ASSETS)) {
        c->assets_dir = path;
    } else {
        c->schema_file = path;
    }
    return NULL;
}

static const char *set_late(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err =
        cnca_conf_parse_seconds(&srv_conf(cmd->server)->late_seconds, cmd->pool, arg, 0, 600);

    (void)dummy;
    return err ? apr_psprintf(cmd->pool, DIRECTIVE_LATE ": %s", err) : NULL;
}

static const command_rec sandbox_cmds[] = {
    AP_INIT_TAKE1(DIRECTIVE_SECRET, set_path, NULL, RSRC_CONF,
                  "file holding the gateway's shared HMAC secret as text (the same secret as "
                  "CNCAGatewaySecretFile); required"),
    AP_INIT_TAKE1(DIRECTIVE_LATE, set_late, NULL, RSRC_CONF,
                  "how long a sandbox person with behaviour 'late' delays the answer "
                  "(seconds, or 30s/2m; default 10)"),
    AP_INIT_TAKE1(DIRECTIVE_ASSETS, set_path, NULL, RSRC_CONF,
                  "directory of the sandbox's pages and assets (htdocs/sandbox; default "
                  "" SANDBOX_ASSETS_DEFAULT ")"),
    AP_INIT_TAKE1(DIRECTIVE_SCHEMA, set_path, NULL, RSRC_CONF,
                  "the gateway protocol's XML Schema (conf/gateway.xsd; default "
                  "" SANDBOX_SCHEMA_DEFAULT ")"),
    {NULL},
};

/* Start-up */

static int load_assets(sandbox_conf_t *c, apr_pool_t *p, server_rec *s)
{
    apr_size_t i;

    c->assets = apr_hash_make(p);
    for (i = 0; i < sizeof(asset_files) / sizeof(asset_files[0]); ++i) {
        const char *path = apr_pstrcat(p, c->assets_dir, "/", asset_files[i].name, NULL);
        sandbox_asset_t *a = apr_pcalloc(p, sizeof(*a));
        apr_file_t *f = NULL;
        apr_finfo_t fi;
        apr_status_t rv;
        char *buf = NULL;

        rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_FPROT_OS_DEFAULT, p);
        if (rv == APR_SUCCESS) {
            rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
        }
        if (rv == APR_SUCCESS && (fi.size <= 0 || fi.size > ASSET_MAX)) {
            rv = APR_EINVAL;
        }
        if (rv == APR_SUCCESS) {
            buf = apr_palloc(p, (apr_size_t)fi.size + 1);
            rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &a->len);
        }
        if (f) {
            apr_file_close(f);
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                         "CNCA00604: " DIRECTIVE_ASSETS " %s: cannot read %s (a file of "
                         "htdocs/sandbox, up to %d bytes)",
                         c->assets_dir, asset_files[i].name, ASSET_MAX);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        buf[a->len] = '\0';
        a->name = asset_files[i].name;
        a->type = asset_files[i].type;
        a->data = buf;
        apr_hash_set(c->assets, a->name, APR_HASH_KEY_STRING, a);
    }
    return OK;
}

static int setup_server(sandbox_conf_t *c, apr_pool_t *pconf, apr_hash_t *schemas, server_rec *s)
{
    const char *msg = NULL;
    apr_status_t rv;

    rv = cnca_gw_secret_load(&c->secret, &c->secret_len, &msg, pconf, c->secret_file);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "CNCA00602: " DIRECTIVE_SECRET ": %s", msg);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!c->schema_file) {
        c->schema_file = SANDBOX_SCHEMA_DEFAULT;
    }
    c->schema = apr_hash_get(schemas, c->schema_file, APR_HASH_KEY_STRING);
    if (!c->schema) {
        rv = cnca_gw_schema_load(&c->schema, pconf, c->schema_file);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                         "CNCA00603: " DIRECTIVE_SCHEMA " %s: cannot load the gateway schema "
                         "(conf/gateway.xsd)",
                         c->schema_file);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_hash_set(schemas, c->schema_file, APR_HASH_KEY_STRING, c->schema);
    }
    if (!c->assets_dir) {
        c->assets_dir = SANDBOX_ASSETS_DEFAULT;
    }
    if (c->late_seconds == SANDBOX_UNSET) {
        c->late_seconds = SANDBOX_LATE_DEFAULT;
    }
    return load_assets(c, pconf, s);
}

static int sandbox_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    apr_hash_t *schemas = apr_hash_make(ptemp);
    int configured = 0, rc;
    server_rec *sp;

    (void)plog;
    log_server = s;
    cnca_log_set_sink(log_sink, NULL);
    xmlInitParser();
    cnca_image_init();
    for (sp = s; sp; sp = sp->next) {
        sandbox_conf_t *c = srv_conf(sp);
        if (!c->secret_file) {
            continue;
        }
        configured = 1;
        rc = setup_server(c, pconf, schemas, sp);
        if (rc == OK) {
            rc = sandbox_store_prepare(sp);
        }
        if (rc != OK) {
            return rc;
        }
    }
    if (!configured) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CNCA00601: mod_cnca_sandbox is loaded but " DIRECTIVE_SECRET
                     " is not set: the sandbox gateway needs the shared secret");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "CNCA00600: mod_cnca_sandbox is loaded: its identity gateway passes "
                     "checks from test data and shows every SMS; it must not be used in "
                     "production");
    }
    return OK;
}

/* Helpers */

void sandbox_headers(request_rec *r, int html)
{
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
    apr_table_setn(r->headers_out, "X-Robots-Tag", "noindex");
    if (html) {
        apr_table_setn(r->headers_out, "Content-Security-Policy", CSP);
    }
}

int sandbox_method_is(request_rec *r, int method)
{
    if (r->method_number == method) {
        return OK;
    }
    r->allowed = (AP_METHOD_BIT << method);
    return HTTP_METHOD_NOT_ALLOWED;
}

int sandbox_read_body(request_rec *r, apr_size_t max, const char **pbody, apr_size_t *plen)
{
    apr_size_t len = 0, cap;
    char *buf;
    long n = 0;
    int rc;

    *pbody = NULL;
    *plen = 0;
    rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK) {
        return rc;
    }
    if (r->remaining > (apr_off_t)max) {
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    cap = r->remaining > 0 ? (apr_size_t)r->remaining : max;
    buf = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        while (len < cap && (n = ap_get_client_block(r, buf + len, cap - len)) > 0) {
            len += (apr_size_t)n;
        }
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
        if (len == cap && r->read_chunked) {
            char more;
            if (ap_get_client_block(r, &more, 1) > 0) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
    }
    buf[len] = '\0';
    *pbody = buf;
    *plen = len;
    return OK;
}

const char *sandbox_arg(request_rec *r, const char *name)
{
    apr_table_t *args = NULL;

    ap_args_to_table(r, &args);
    return args ? apr_table_get(args, name) : NULL;
}

const char *sandbox_token_arg(request_rec *r)
{
    const char *t = sandbox_arg(r, "token");
    apr_size_t i;

    if (!t || strlen(t) != 32) {
        return NULL;
    }
    for (i = 0; i < 32; ++i) {
        if (!apr_isxdigit(t[i]) || apr_isupper(t[i])) {
            return NULL;
        }
    }
    return t;
}

int sandbox_send_asset(sandbox_req_t *sr, const char *name, int status)
{
    const sandbox_asset_t *a = apr_hash_get(sr->conf->assets, name, APR_HASH_KEY_STRING);

    if (!a) {
        return HTTP_NOT_FOUND;
    }
    sandbox_headers(sr->r, !strncmp(a->type, "text/html", 9));
    sr->r->status = status;
    ap_set_content_type(sr->r, a->type);
    ap_set_content_length(sr->r, (apr_off_t)a->len);
    if (!sr->r->header_only) {
        ap_rwrite(a->data, (int)a->len, sr->r);
    }
    return OK;
}

int sandbox_send_json(request_rec *r, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "CNCA00605: cannot encode a JSON answer");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    sandbox_headers(r, 0);
    r->status = status;
    ap_set_content_type(r, "application/json; charset=utf-8");
    ap_set_content_length(r, (apr_off_t)strlen(text));
    if (!r->header_only) {
        ap_rputs(text, r);
    }
    free(text);
    return OK;
}

/* The handler */

static int static_asset(sandbox_req_t *sr, const char *name)
{
    apr_size_t i;

    for (i = 0; i < sizeof(asset_files) / sizeof(asset_files[0]); ++i) {
        if (asset_files[i].is_static && !strcmp(asset_files[i].name, name)) {
            int rc = sandbox_method_is(sr->r, M_GET);
            if (rc != OK) {
                return rc;
            }
            rc = sandbox_send_asset(sr, name, HTTP_OK);
            apr_table_setn(sr->r->headers_out, "Cache-Control", "no-cache");
            return rc;
        }
    }
    return HTTP_NOT_FOUND;
}

static int sandbox_handler(request_rec *r)
{
    const core_dir_config *core;
    sandbox_req_t sr;
    const char *route;
    apr_size_t mlen;

    if (!r->handler || strcmp(r->handler, SANDBOX_HANDLER)) {
        return DECLINED;
    }
    sr.r = r;
    sr.conf = srv_conf(r->server);
    if (!sr.conf->secret || !sr.conf->assets) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CNCA00606: " DIRECTIVE_SECRET " is not set for this server");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* The <Location> that set the handler is where the sandbox is mounted. */
    core = ap_get_core_module_config(r->per_dir_config);
    sr.base = core && core->d && !core->d_is_fnmatch ? core->d : "";
    mlen = strlen(sr.base);
    while (mlen > 0 && sr.base[mlen - 1] == '/') {
        --mlen;
    }
    if (strncmp(r->uri, sr.base, mlen) || (r->uri[mlen] != '/' && r->uri[mlen] != '\0')) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CNCA00607: SetHandler " SANDBOX_HANDLER " works in a <Location> block "
                      "whose path prefixes the URL");
        return HTTP_NOT_FOUND;
    }
    sr.base = apr_pstrndup(r->pool, sr.base, mlen);
    route = r->uri + mlen;
    if (!*route) {
        apr_table_setn(r->headers_out, "Location",
                       ap_construct_url(r->pool, apr_pstrcat(r->pool, r->uri, "/", NULL), r));
        return HTTP_MOVED_PERMANENTLY;
    }
    if (!strcmp(route, "/gateway")) {
        return sandbox_gateway(&sr);
    }
    if (!strcmp(route, "/face")) {
        return sandbox_face_page(&sr);
    }
    if (!strcmp(route, "/face/capture")) {
        return sandbox_face_capture(&sr);
    }
    if (!strcmp(route, "/sms")) {
        return sandbox_sms_json(&sr);
    }
    if (!strcmp(route, "/")) {
        return sandbox_inbox_page(&sr);
    }
    if (!strncmp(route, "/static/", 8)) {
        return static_asset(&sr, route + 8);
    }
    return HTTP_NOT_FOUND;
}

static int sandbox_translate(request_rec *r)
{
    return cnca_translate_no_files(r, "cnca-sandbox");
}

static int sandbox_map(request_rec *r)
{
    return cnca_map_no_files(r, "cnca-sandbox");
}

static void register_hooks(apr_pool_t *p)
{
    /* Statements are handed to mod_dbd before it sets up its pools. */
    static const char *const before_dbd[] = {"mod_dbd.c", NULL};

    (void)p;
    ap_hook_post_config(sandbox_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    cnca_no_files_hooks(sandbox_translate, sandbox_map);
    ap_hook_handler(sandbox_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA cnca_sandbox_module = {
    STANDARD20_MODULE_STUFF, NULL,         NULL,           create_srv_conf,
    merge_srv_conf,          sandbox_cmds, register_hooks, 0,
};
