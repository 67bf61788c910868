/* The identity-gateway protocol (API.md, "Gateway protocol"): XML messages
 * in namespace urn:cnca:gateway:1, validated against conf/gateway.xsd,
 * signed with HMAC-SHA256 over "timestamp\nbody", carried by HTTP POST.
 *
 * Both sides use this core: the module builds requests and parses answers
 * (cnca_gw_call does it all), the sandbox parses requests and builds
 * answers. Nothing here needs httpd.
 *
 * Start-up (the glue, once, in the parent before any thread): xmlInitParser()
 * and curl_global_init(CURL_GLOBAL_DEFAULT). Never xmlCleanupParser(). */
#ifndef CNCA_GATEWAY_H
#define CNCA_GATEWAY_H

#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_tables.h>
#include <apr_time.h>

#define CNCA_GW_NS "urn:cnca:gateway:1"
#define CNCA_GW_REQUEST "gateway-request"
#define CNCA_GW_RESPONSE "gateway-response"
#define CNCA_GW_HEADER_TIMESTAMP "X-CNCA-Timestamp"
#define CNCA_GW_HEADER_SIGNATURE "X-CNCA-Signature"
#define CNCA_GW_CONTENT_TYPE "application/xml; charset=utf-8"

/* Largest request or response body either side accepts. */
#define CNCA_GW_MAX_BODY (64 * 1024)
/* Largest difference between a request's timestamp and the clock. */
#define CNCA_GW_MAX_SKEW 300
/* Shortest shared secret cnca_gw_secret_load accepts, in bytes. */
#define CNCA_GW_SECRET_MIN 16

/* Message types. */
#define CNCA_GW_MOBILE_3E "mobile-3e"
#define CNCA_GW_BANKCARD_4E "bankcard-4e"
#define CNCA_GW_SMS_SEND "sms-send"
#define CNCA_GW_FACE_START "face-start"
#define CNCA_GW_FACE_RESULT "face-result"

typedef enum { CNCA_GW_PASS, CNCA_GW_FAIL, CNCA_GW_ERROR } cnca_gw_result_t;

typedef struct {
    cnca_gw_result_t result;
    const char *id;
    const char *reason_code, *reason_text; /* fail / error; NULL on pass */
    apr_table_t *fields;                   /* token, url, name, id-number, score */
} cnca_gw_response_t;

typedef struct {
    const char *id;
    const char *type;
    apr_table_t *fields; /* name, id-number, mobile, bank-card, text, return-url, token */
} cnca_gw_request_t;

typedef struct cnca_gw_schema cnca_gw_schema_t;
typedef struct cnca_gw_client cnca_gw_client_t;

/* "pass", "fail" or "error". */
const char *cnca_gw_result_name(cnca_gw_result_t result);

/* 1 when type is one of the five message types. */
int cnca_gw_type_known(const char *type);

/* Parses conf/gateway.xsd once, at start-up; freed with p. Validation with
 * the result is thread-safe (each call makes its own validation context). */
apr_status_t cnca_gw_schema_load(cnca_gw_schema_t **ps, apr_pool_t *p, const char *xsd_path);

/* A request of `type` with a fresh UUID v4 id. kv: NULL-terminated name,
 * value pairs, e.g. {"name", "刘德华", "id-number", "...", "mobile", "...",
 * NULL}; exactly the fields the type takes, each once. Values must be valid
 * UTF-8 without control characters (tab and newline allowed); the library
 * escapes them. APR_EINVAL (and a log line) on misuse. */
apr_status_t cnca_gw_build_request(const char **pxml, const char **pid, apr_pool_t *p,
                                   const char *type, const char *const *kv);

/* Reads a request: well-formed, no DTD, valid against the schema, a
 * gateway-request, carrying every field its type takes. On failure
 * APR_EGENERAL with *pcause (no field values in it). */
apr_status_t cnca_gw_parse_request(cnca_gw_request_t **preq, const char **pcause, apr_pool_t *p,
                                   const char *xml, apr_size_t len, cnca_gw_schema_t *schema);

/* An answer to request `id`. reason_code/reason_text are required for
 * FAIL/ERROR and ignored for PASS. kv as for cnca_gw_build_request (may be
 * NULL), fields from the response column. */
apr_status_t cnca_gw_build_response(const char **pxml, apr_pool_t *p, const char *id,
                                    cnca_gw_result_t result, const char *reason_code,
                                    const char *reason_text, const char *const *kv);

/* Reads an answer: well-formed, no DTD, valid against the schema, a
 * gateway-response whose id is expect_id (unless NULL), a reason when the
 * result is fail or error. On failure APR_EGENERAL with *pcause. */
apr_status_t cnca_gw_parse_response(cnca_gw_response_t **presp, const char **pcause, apr_pool_t *p,
                                    const char *xml, apr_size_t len, const char *expect_id,
                                    cnca_gw_schema_t *schema);

/* A pass answer to a `type` request carries every field that type returns.
 * APR_EGENERAL with *pcause when not. */
apr_status_t cnca_gw_check_response(const char **pcause, apr_pool_t *p, const char *type,
                                    const cnca_gw_response_t *resp);

/* Reads the shared secret from a text file: its content with whitespace
 * trimmed at both ends, at least CNCA_GW_SECRET_MIN bytes. APR_EINVAL when
 * too short, else the file error. *pmsg says what is wrong (never the
 * secret). */
apr_status_t cnca_gw_secret_load(const unsigned char **psecret, apr_size_t *plen, const char **pmsg,
                                 apr_pool_t *p, const char *path);

/* Lowercase hex HMAC-SHA256(secret, timestamp "\n" body). */
const char *cnca_gw_signature(apr_pool_t *p, const unsigned char *secret, apr_size_t secret_len,
                              const char *timestamp, const char *body, apr_size_t body_len);

/* 1 when timestamp is decimal Unix seconds within CNCA_GW_MAX_SKEW of now
 * and signature (hex, either case) matches, compared in constant time. */
int cnca_gw_signature_ok(apr_pool_t *p, const unsigned char *secret, apr_size_t secret_len,
                         const char *timestamp, const char *signature, const char *body,
                         apr_size_t body_len, apr_time_t now);

/* A client for one gateway URL (http or https), made once per httpd child
 * (child pool) and used by many threads at once. It keeps a pool of libcurl
 * handles, so calls reuse kept-alive connections. timeout bounds a whole
 * call (waiting for a handle, connecting, sending, answering). The gateway
 * is reached directly (no proxy from the environment). */
apr_status_t cnca_gw_client_create(cnca_gw_client_t **pc, apr_pool_t *p, const char *url,
                                   const unsigned char *secret, apr_size_t secret_len,
                                   apr_interval_time_t timeout, cnca_gw_schema_t *schema);

/* One call: build, sign, POST, parse and validate, check the id and the
 * fields the type returns. A well-formed answer is APR_SUCCESS with
 * (*presp)->result PASS, FAIL or ERROR. Anything else (timeout, transport
 * error, non-2xx, body over CNCA_GW_MAX_BODY, bad XML, schema failure, wrong
 * id, missing fields) is APR_TIMEUP (timeout) or APR_EGENERAL with *pcause
 * and a log line "CNCA005xx: gateway TYPE failed: CAUSE"; never a pass.
 * A misuse of kv is APR_EINVAL. */
apr_status_t cnca_gw_call(cnca_gw_response_t **presp, const char **pcause, cnca_gw_client_t *c,
                          apr_pool_t *p, const char *type, const char *const *kv);

#endif
