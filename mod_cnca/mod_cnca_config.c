/* Directives: one table, unset sentinels, field-by-field merge, every value
 * checked when it is read so that `apachectl configtest` names the directive. */
#include "mod_cnca.h"

#include <stddef.h>
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <strings.h>

#include "cnca_ca.h"
#include "cnca_config.h"
#include "cnca_crypto.h"

#define CNCA_MEMCACHED_SERVERS "CNCAMemcachedServers"
#define CNCA_SESSION_TIMEOUT "CNCASessionTimeout"
#define CNCA_SESSION_MAX_AGE "CNCASessionMaxAge"
#define CNCA_COOKIE_SECURE "CNCACookieSecure"
#define CNCA_COOKIE_NAME "CNCACookieName"
#define CNCA_MASTER_KEY_FILE "CNCAMasterKeyFile"
#define CNCA_HOTLINE "CNCAHotline"
#define CNCA_PAGES_URL "CNCAPagesURL"
#define CNCA_SANDBOX "CNCASandbox"
#define CNCA_GATEWAY_URL "CNCAGatewayURL"
#define CNCA_GATEWAY_SECRET_FILE "CNCAGatewaySecretFile"
#define CNCA_GATEWAY_TIMEOUT "CNCAGatewayTimeout"
#define CNCA_GATEWAY_SCHEMA_FILE "CNCAGatewaySchemaFile"
#define CNCA_CA_CERTIFICATE_FILE "CNCACACertificateFile"
#define CNCA_CA_KEY_FILE "CNCACAKeyFile"
#define CNCA_KEY_ALGORITHM "CNCAKeyAlgorithm"
#define CNCA_CERT_VALIDITY_DAYS "CNCACertValidityDays"
#define CNCA_CERT_SUBJECT "CNCACertSubject"
#define CNCA_SMS_SIGN_NAME "CNCASMSSignName"
#define CNCA_SMS_INTERVAL "CNCASMSInterval"
#define CNCA_SMS_HOURLY_LIMIT "CNCASMSHourlyLimit"
#define CNCA_SMS_DAILY_LIMIT "CNCASMSDailyLimit"
#define CNCA_SMS_CLIENT_DAILY_LIMIT "CNCASMSClientDailyLimit"
#define CNCA_CAPTCHA_FONT "CNCACaptchaFont"
#define CNCA_SIGNATURE_MAX_BYTES "CNCASignatureMaxBytes"
#define CNCA_SIGNATURE_MAX_PIXELS "CNCASignatureMaxPixels"
#define CNCA_FACE_MAX_AGE "CNCAFaceMaxAge"

cnca_srv_conf_t *cnca_srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &cnca_module);
}

void *cnca_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    cnca_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));
    (void)s;
    sc->session_timeout = CNCA_UNSET;
    sc->session_max_age = CNCA_UNSET;
    sc->cookie_secure = CNCA_UNSET;
    sc->sandbox = CNCA_UNSET;
    sc->gateway_timeout_ms = CNCA_UNSET;
    sc->validity_days = CNCA_UNSET;
    sc->sms_interval = CNCA_UNSET;
    sc->sms_hourly = CNCA_UNSET;
    sc->sms_daily = CNCA_UNSET;
    sc->sms_client_daily = CNCA_UNSET;
    sc->sig_max_w = CNCA_UNSET;
    sc->sig_max_h = CNCA_UNSET;
    sc->face_max_age = CNCA_UNSET;
    return sc;
}

#define MERGE_PTR(f) sc->f = add->f ? add->f : base->f
#define MERGE_INT(f) sc->f = add->f != CNCA_UNSET ? add->f : base->f

void *cnca_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    cnca_srv_conf_t *base = basev, *add = addv;
    cnca_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));

    MERGE_PTR(memcached);
    MERGE_INT(session_timeout);
    MERGE_INT(session_max_age);
    MERGE_INT(cookie_secure);
    MERGE_PTR(cookie_name);
    MERGE_PTR(master_key_file);
    MERGE_PTR(master);
    MERGE_PTR(hotline);
    MERGE_PTR(pages_url);
    MERGE_INT(sandbox);
    MERGE_PTR(gateway_url);
    MERGE_PTR(gateway_secret_file);
    MERGE_PTR(gateway_secret);
    MERGE_INT(gateway_timeout_ms);
    MERGE_PTR(gateway_schema_file);
    MERGE_PTR(ca_cert_file);
    MERGE_PTR(ca_key_file);
    MERGE_PTR(key_alg_name);
    MERGE_INT(validity_days);
    MERGE_PTR(cert_subject);
    MERGE_PTR(sms_sign);
    MERGE_INT(sms_interval);
    MERGE_INT(sms_hourly);
    MERGE_INT(sms_daily);
    MERGE_INT(sms_client_daily);
    MERGE_PTR(captcha_font);
    sc->sig_max_bytes = add->sig_max_bytes ? add->sig_max_bytes : base->sig_max_bytes;
    MERGE_INT(sig_max_w);
    MERGE_INT(sig_max_h);
    MERGE_INT(face_max_age);
    return sc;
}

#define DEFAULT_INT(f, v)                                                                          \
    if (sc->f == CNCA_UNSET)                                                                       \
    sc->f = (v)
#define DEFAULT_PTR(f, v)                                                                          \
    if (!sc->f)                                                                                    \
    sc->f = (v)

void cnca_conf_finish(cnca_srv_conf_t *sc)
{
    DEFAULT_PTR(memcached, "127.0.0.1:11211");
    DEFAULT_INT(session_timeout, 900);
    DEFAULT_INT(session_max_age, 7200);
    DEFAULT_INT(cookie_secure, 1);
    DEFAULT_PTR(cookie_name, "cnca_session");
    DEFAULT_PTR(hotline, "962600");
    DEFAULT_PTR(pages_url, "/cnca/");
    DEFAULT_INT(sandbox, 0);
    DEFAULT_INT(gateway_timeout_ms, 5000);
    DEFAULT_PTR(key_alg_name, "ec-p256");
    {
        cnca_key_alg_t alg = CNCA_ALG_EC_P256;
        cnca_key_alg_parse(&alg, sc->key_alg_name); /* checked when read */
        sc->key_alg = (int)alg;
    }
    DEFAULT_INT(validity_days, 365);
    DEFAULT_PTR(cert_subject, "C=CN, ST=上海, O=上海建筑业个人数字证书");
    DEFAULT_PTR(sms_sign, "大家签");
    DEFAULT_INT(sms_interval, 60);
    DEFAULT_INT(sms_hourly, 5);
    DEFAULT_INT(sms_daily, 10);
    DEFAULT_INT(sms_client_daily, 50);
    if (!sc->sig_max_bytes) {
        sc->sig_max_bytes = 2 * 1024 * 1024;
    }
    DEFAULT_INT(sig_max_w, 4000);
    DEFAULT_INT(sig_max_h, 4000);
    DEFAULT_INT(face_max_age, 600);
    if (sc->master) {
        cnca_key_derive(&sc->key_id_hash, sc->master, "id-hash");
        cnca_key_derive(&sc->key_id_enc, sc->master, "id-enc");
        cnca_key_derive(&sc->key_session, sc->master, "session");
        cnca_key_derive(&sc->key_otp, sc->master, "otp");
        cnca_key_derive(&sc->key_private, sc->master, "private-key");
    }
}

/* What a server that answers the API must have; NULL when complete. */
const char *cnca_conf_check(cnca_srv_conf_t *sc, apr_pool_t *p)
{
    if (!sc->master) {
        return CNCA_MASTER_KEY_FILE " is required where the cnca-api handler is used";
    }
    if (sc->session_max_age < sc->session_timeout) {
        return apr_psprintf(p,
                            CNCA_SESSION_MAX_AGE
                            " (%d s) must not be shorter than " CNCA_SESSION_TIMEOUT " (%d s)",
                            sc->session_max_age, sc->session_timeout);
    }
    return NULL;
}

static const char *fail(cmd_parms *cmd, const char *err)
{
    return err ? apr_psprintf(cmd->pool, "%s: %s", cmd->directive->directive, err) : NULL;
}

static const char *server_only(cmd_parms *cmd)
{
    return ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
}

#define SC(cmd) ((cnca_srv_conf_t *)cnca_srv_conf((cmd)->server))

/* integer fields: cmd->info is a range spec */
typedef struct {
    apr_size_t offset;
    int min, max;
    int seconds;
} int_spec_t;

static const char *set_int(cmd_parms *cmd, void *dc, const char *arg)
{
    const int_spec_t *spec = cmd->info;
    int *field = (int *)((char *)SC(cmd) + spec->offset);
    const char *err = server_only(cmd);
    (void)dc;
    if (err) {
        return err;
    }
    if (spec->seconds) {
        return fail(cmd, cnca_conf_parse_seconds(field, cmd->pool, arg, spec->min, spec->max));
    }
    return fail(cmd, cnca_conf_parse_int(field, cmd->pool, arg, spec->min, spec->max));
}

/* a count, or off (0: no such cap) */
static const char *set_int_or_off(cmd_parms *cmd, void *dc, const char *arg)
{
    const int_spec_t *spec = cmd->info;
    const char *err = server_only(cmd);

    if (err || strcasecmp(arg, "off")) {
        return err ? err : set_int(cmd, dc, arg);
    }
    *(int *)((char *)SC(cmd) + spec->offset) = 0;
    return NULL;
}

static const char *set_flag(cmd_parms *cmd, void *dc, int on)
{
    int *field = (int *)((char *)SC(cmd) + (apr_size_t)cmd->info);
    const char *err = server_only(cmd);
    (void)dc;
    if (err) {
        return err;
    }
    *field = on ? 1 : 0;
    return NULL;
}

static const char *set_cookie_name(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *s;
    (void)dc;
    if (server_only(cmd)) {
        return server_only(cmd);
    }
    for (s = arg; *s; ++s) {
        if (!apr_isalnum(*s) && *s != '_' && *s != '-') {
            return fail(cmd, "may hold only letters, digits, '_' and '-'");
        }
    }
    if (!*arg || strlen(arg) > 64) {
        return fail(cmd, "must be 1 to 64 characters");
    }
    SC(cmd)->cookie_name = arg;
    return NULL;
}

static const char *set_master_key(cmd_parms *cmd, void *dc, const char *arg)
{
    cnca_key_t *key = apr_pcalloc(cmd->pool, sizeof(*key));
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_status_t rv;
    char buf[120];
    (void)dc;
    if (server_only(cmd)) {
        return server_only(cmd);
    }
    if (!path) {
        return fail(cmd, apr_psprintf(cmd->pool, "invalid path '%s'", arg));
    }
    if ((rv = cnca_key_load(key, path, cmd->pool)) != APR_SUCCESS) {
        return fail(cmd, apr_psprintf(cmd->pool,
                                      "cannot use '%s': %s (it must hold 64 hex characters "
                                      "or 32 raw bytes)",
                                      path,
                                      rv == APR_EINVAL ? "not a 256-bit key"
                                                       : apr_strerror(rv, buf, sizeof(buf))));
    }
    SC(cmd)->master_key_file = path;
    SC(cmd)->master = key;
    return NULL;
}

static const char *read_secret(cmd_parms *cmd, const char *arg, const char **psecret)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_file_t *f;
    char buf[1024], errbuf[120];
    apr_size_t n = sizeof(buf) - 1;
    apr_status_t rv;
    char *s, *e;

    if (!path) {
        return fail(cmd, apr_psprintf(cmd->pool, "invalid path '%s'", arg));
    }
    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->pool)) != APR_SUCCESS) {
        return fail(cmd, apr_psprintf(cmd->pool, "cannot read '%s': %s", path,
                                      apr_strerror(rv, errbuf, sizeof(errbuf))));
    }
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    buf[n] = '\0';
    for (s = buf; *s && apr_isspace(*s); ++s)
        ;
    for (e = s + strlen(s); e > s && apr_isspace(e[-1]); --e)
        ;
    *e = '\0';
    if (strlen(s) < 16) {
        return fail(cmd, apr_psprintf(cmd->pool,
                                      "'%s' must hold a secret of at least 16 "
                                      "characters",
                                      path));
    }
    *psecret = apr_pstrdup(cmd->pool, s);
    memset(buf, 0, sizeof(buf));
    return NULL;
}

static const char *set_gateway_secret(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    if (server_only(cmd)) {
        return server_only(cmd);
    }
    SC(cmd)->gateway_secret_file = arg;
    return read_secret(cmd, arg, &SC(cmd)->gateway_secret);
}

static const char *set_readable_file(cmd_parms *cmd, void *dc, const char *arg)
{
    const char **field = (const char **)((char *)SC(cmd) + (apr_size_t)cmd->info);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;
    (void)dc;
    if (server_only(cmd)) {
        return server_only(cmd);
    }
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS ||
        fi.filetype != APR_REG) {
        return fail(cmd, apr_psprintf(cmd->pool, "cannot read file '%s'", arg));
    }
    *field = path;
    return NULL;
}

static const char *set_gateway_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err;
    int ms;
    apr_size_t len = strlen(arg);
    (void)dc;
    if (server_only(cmd)) {
        return server_only(cmd);
    }
    if (len > 2 && !strcmp(arg + len - 2, "ms")) {
        err =
            cnca_conf_parse_int(&ms, cmd->pool, apr_pstrndup(cmd->pool, arg, len - 2), 100, 120000);
    } else if (!(err = cnca_conf_parse_seconds(&ms, cmd->pool, arg, 1, 120))) {
        ms *= 1000;
    }
    if (!err) {
        SC(cmd)->gateway_timeout_ms = ms;
    }
    return fail(cmd, err);
}

static const char *set_sig_bytes(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    return server_only(cmd) ? server_only(cmd)
                            : fail(cmd, cnca_conf_parse_bytes(&SC(cmd)->sig_max_bytes, cmd->pool,
                                                              arg, 1024, 20 * 1024 * 1024));
}

static const char *set_sig_pixels(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    return server_only(cmd)
               ? server_only(cmd)
               : fail(cmd, cnca_conf_parse_dimensions(&SC(cmd)->sig_max_w, &SC(cmd)->sig_max_h,
                                                      cmd->pool, arg, 10000));
}

/* text fields checked by a parser of cnca_config.h: cmd->info is the spec */
typedef const char *str_parser_fn(const char **pout, apr_pool_t *p, const char *arg);
typedef struct {
    apr_size_t offset;
    str_parser_fn *parse;
} str_spec_t;

static const char *set_str(cmd_parms *cmd, void *dc, const char *arg)
{
    const str_spec_t *spec = cmd->info;
    const char **field = (const char **)((char *)SC(cmd) + spec->offset);
    const char *err = server_only(cmd);
    (void)dc;
    return err ? err : fail(cmd, spec->parse(field, cmd->pool, arg));
}

static const char *parse_key_alg(const char **pout, apr_pool_t *p, const char *arg)
{
    cnca_key_alg_t alg;
    (void)p;
    if (cnca_key_alg_parse(&alg, arg) != APR_SUCCESS) {
        return "must be one of ec-p256, sm2, rsa-2048, rsa-3072";
    }
    *pout = arg;
    return NULL;
}

static const char *parse_subject(const char **pout, apr_pool_t *p, const char *arg)
{
    const char *err = NULL;
    if (cnca_ca_subject_check(arg, p, &err) != APR_SUCCESS) {
        return err ? err : "is not a subject (\"C=CN, O=...\")";
    }
    *pout = arg;
    return NULL;
}

#define OFF(f) offsetof(cnca_srv_conf_t, f)
static const str_spec_t spec_memcached = {OFF(memcached), cnca_conf_parse_memcached};
static const str_spec_t spec_hotline = {OFF(hotline), cnca_conf_parse_hotline};
static const str_spec_t spec_pages_url = {OFF(pages_url), cnca_conf_parse_path_prefix};
static const str_spec_t spec_gateway_url = {OFF(gateway_url), cnca_conf_parse_url};
static const str_spec_t spec_sign_name = {OFF(sms_sign), cnca_conf_parse_sign_name};
static const str_spec_t spec_key_alg = {OFF(key_alg_name), parse_key_alg};
static const str_spec_t spec_subject = {OFF(cert_subject), parse_subject};
static const int_spec_t spec_session_timeout = {OFF(session_timeout), 1, 86400, 1};
static const int_spec_t spec_session_max_age = {OFF(session_max_age), 1, 7 * 86400, 1};
static const int_spec_t spec_validity = {OFF(validity_days), 1, 825, 0};
static const int_spec_t spec_sms_interval = {OFF(sms_interval), 30, 3600, 1};
static const int_spec_t spec_sms_hourly = {OFF(sms_hourly), 1, 100, 0};
static const int_spec_t spec_sms_daily = {OFF(sms_daily), 1, 1000, 0};
static const int_spec_t spec_sms_client = {OFF(sms_client_daily), 1, 1000000, 0};
static const int_spec_t spec_face_max_age = {OFF(face_max_age), 60, 3600, 1};

const command_rec cnca_cmds[] = {
    AP_INIT_TAKE1(CNCA_MEMCACHED_SERVERS, set_str, (void *)&spec_memcached, RSRC_CONF,
                  "memcached servers for sessions, host:port or /path/to/socket, "
                  "comma-separated (default 127.0.0.1:11211)"),
    AP_INIT_TAKE1(CNCA_SESSION_TIMEOUT, set_int, (void *)&spec_session_timeout, RSRC_CONF,
                  "idle time after which a session ends, seconds or 15m (default 900)"),
    AP_INIT_TAKE1(CNCA_SESSION_MAX_AGE, set_int, (void *)&spec_session_max_age, RSRC_CONF,
                  "absolute lifetime of a session (default 7200 s)"),
    AP_INIT_FLAG(CNCA_COOKIE_SECURE, set_flag, (void *)OFF(cookie_secure), RSRC_CONF,
                 "Secure cookie with the __Host- prefix (default On; Off only for http dev)"),
    AP_INIT_TAKE1(CNCA_COOKIE_NAME, set_cookie_name, NULL, RSRC_CONF,
                  "session cookie name (default cnca_session)"),
    AP_INIT_TAKE1(CNCA_MASTER_KEY_FILE, set_master_key, NULL, RSRC_CONF,
                  "file with the 256-bit master key (64 hex characters); required"),
    AP_INIT_TAKE1(CNCA_HOTLINE, set_str, (void *)&spec_hotline, RSRC_CONF,
                  "hotline shown in messages (default 962600)"),
    AP_INIT_TAKE1(CNCA_PAGES_URL, set_str, (void *)&spec_pages_url, RSRC_CONF,
                  "URL path of the H5 pages (default /cnca/)"),
    AP_INIT_FLAG(CNCA_SANDBOX, set_flag, (void *)OFF(sandbox), RSRC_CONF,
                 "sandbox mode: captcha answers in a header (default Off; never in production)"),
    AP_INIT_TAKE1(CNCA_GATEWAY_URL, set_str, (void *)&spec_gateway_url, RSRC_CONF,
                  "URL of the identity gateway"),
    AP_INIT_TAKE1(CNCA_GATEWAY_SECRET_FILE, set_gateway_secret, NULL, RSRC_CONF,
                  "file with the gateway's shared HMAC secret"),
    AP_INIT_TAKE1(CNCA_GATEWAY_TIMEOUT, set_gateway_timeout, NULL, RSRC_CONF,
                  "bound on one gateway call, seconds or NNNms (default 5)"),
    AP_INIT_TAKE1(CNCA_GATEWAY_SCHEMA_FILE, set_readable_file, (void *)OFF(gateway_schema_file),
                  RSRC_CONF, "the gateway XML Schema (default: installed gateway.xsd)"),
    AP_INIT_TAKE1(CNCA_CA_CERTIFICATE_FILE, set_readable_file, (void *)OFF(ca_cert_file), RSRC_CONF,
                  "the issuing CA certificate (PEM)"),
    AP_INIT_TAKE1(CNCA_CA_KEY_FILE, set_readable_file, (void *)OFF(ca_key_file), RSRC_CONF,
                  "the issuing CA private key (PEM)"),
    AP_INIT_TAKE1(CNCA_KEY_ALGORITHM, set_str, (void *)&spec_key_alg, RSRC_CONF,
                  "applicant key type: ec-p256 (default), sm2, rsa-2048, rsa-3072"),
    AP_INIT_TAKE1(CNCA_CERT_VALIDITY_DAYS, set_int, (void *)&spec_validity, RSRC_CONF,
                  "certificate validity in days, 1-825 (default 365)"),
    AP_INIT_TAKE1(CNCA_CERT_SUBJECT, set_str, (void *)&spec_subject, RSRC_CONF,
                  "subject RDNs before the CN, e.g. \"C=CN, O=...\""),
    AP_INIT_TAKE1(CNCA_SMS_SIGN_NAME, set_str, (void *)&spec_sign_name, RSRC_CONF,
                  "SMS sign name inside 【】 (default 大家签)"),
    AP_INIT_TAKE1(CNCA_SMS_INTERVAL, set_int, (void *)&spec_sms_interval, RSRC_CONF,
                  "seconds between two codes to one number (default 60)"),
    AP_INIT_TAKE1(CNCA_SMS_HOURLY_LIMIT, set_int, (void *)&spec_sms_hourly, RSRC_CONF,
                  "codes per number per hour (default 5)"),
    AP_INIT_TAKE1(CNCA_SMS_DAILY_LIMIT, set_int, (void *)&spec_sms_daily, RSRC_CONF,
                  "codes per number per day (default 10)"),
    AP_INIT_TAKE1(CNCA_SMS_CLIENT_DAILY_LIMIT, set_int_or_off, (void *)&spec_sms_client, RSRC_CONF,
                  "codes per client address per day, or off (default 50)"),
    AP_INIT_TAKE1(CNCA_CAPTCHA_FONT, set_readable_file, (void *)OFF(captcha_font), RSRC_CONF,
                  "TrueType font for the captcha (default: DejaVu Sans Bold)"),
    AP_INIT_TAKE1(CNCA_SIGNATURE_MAX_BYTES, set_sig_bytes, NULL, RSRC_CONF,
                  "largest signature upload (default 2M)"),
    AP_INIT_TAKE1(CNCA_SIGNATURE_MAX_PIXELS, set_sig_pixels, NULL, RSRC_CONF,
                  "largest signature image, WxH (default 4000x4000)"),
    AP_INIT_TAKE1(CNCA_FACE_MAX_AGE, set_int, (void *)&spec_face_max_age, RSRC_CONF,
                  "how long a passed face check counts (default 600 s)"),
    {NULL},
};
