/* The gateway codec and signing (cnca_gateway_xml.c, cnca_gateway_sign.c):
 * no network. Run from the project root (reads conf/gateway.xsd). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include <libxml/parser.h>

#include "cnca_gateway.h"
#include "cnca_log.h"
#include "tap.h"

#define XSD "conf/gateway.xsd"
#define ID "0b0c6a36-4a5e-4f5a-9d1e-1e6f2b3c4d5e"
#define ID_NUMBER "11010519491231002X"

static char log_lines[8192];

static void log_sink(void *baton, const char *file, int line, cnca_log_level_t level,
                     apr_status_t rv, const char *msg)
{
    (void)baton, (void)file, (void)line, (void)level, (void)rv;
    apr_cpystrn(log_lines + strlen(log_lines), msg, sizeof(log_lines) - strlen(log_lines));
    apr_cpystrn(log_lines + strlen(log_lines), "\n", sizeof(log_lines) - strlen(log_lines));
}

static cnca_gw_schema_t *schema(apr_pool_t *p)
{
    cnca_gw_schema_t *s = NULL;
    apr_status_t rv = cnca_gw_schema_load(&s, p, XSD);
    if (rv != APR_SUCCESS) {
        printf("Bail out! cannot load %s\n", XSD);
        exit(1);
    }
    return s;
}

static int is_uuid_v4(const char *id)
{
    int i;

    if (!id || strlen(id) != 36) {
        return 0;
    }
    for (i = 0; i < 36; ++i) {
        int dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? id[i] != '-' : !strchr("0123456789abcdef", id[i])) {
            return 0;
        }
    }
    return id[14] == '4' && strchr("89ab", id[19]) != NULL;
}

static const char *resp_xml(apr_pool_t *p, const char *ns, const char *id, const char *result,
                            const char *inner)
{
    return apr_psprintf(p,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<gateway-response xmlns=\"%s\" id=\"%s\" result=\"%s\">%s"
                        "</gateway-response>",
                        ns, id, result, inner);
}

/* Builds a request, checks its shape and reads it back with the schema. */
static cnca_gw_request_t *round_trip(apr_pool_t *p, cnca_gw_schema_t *s, const char *type,
                                     const char *const *kv, const char **pxml)
{
    const char *xml = NULL, *id = NULL, *cause = NULL;
    cnca_gw_request_t *req = NULL;
    char what[128];

    apr_snprintf(what, sizeof(what), "%s: builds", type);
    is_int(cnca_gw_build_request(&xml, &id, p, type, kv), APR_SUCCESS, what);
    apr_snprintf(what, sizeof(what), "%s: id is a UUID v4", type);
    ok(is_uuid_v4(id), what);
    if (!xml) {
        return NULL;
    }
    apr_snprintf(what, sizeof(what), "%s: namespace, id and type on the root", type);
    ok(strstr(xml, "<gateway-request xmlns=\"urn:cnca:gateway:1\"") &&
           strstr(xml, apr_psprintf(p, "id=\"%s\"", id)) &&
           strstr(xml, apr_psprintf(p, "type=\"%s\"", type)),
       what);
    apr_snprintf(what, sizeof(what), "%s: reads back valid", type);
    is_int(cnca_gw_parse_request(&req, &cause, p, xml, strlen(xml), s), APR_SUCCESS, what);
    if (cause) {
        tap_diag(cause);
    }
    if (req) {
        apr_snprintf(what, sizeof(what), "%s: same id and type", type);
        ok(!strcmp(req->id, id) && !strcmp(req->type, type), what);
        for (; kv[0]; kv += 2) {
            apr_snprintf(what, sizeof(what), "%s: field %s", type, kv[0]);
            is_str(apr_table_get(req->fields, kv[0]), kv[1], what);
        }
    }
    if (pxml) {
        *pxml = xml;
    }
    return req;
}

static void test_requests(void)
{
    apr_pool_t *p = tap_pool();
    cnca_gw_schema_t *s = schema(p);
    const char *xml = NULL, *id1 = NULL, *id2 = NULL;
    const char *m3[] = {"name", "刘德华", "id-number", ID_NUMBER, "mobile", "13800138000", NULL};
    const char *b4[] = {"name",    "欧阳·娜娜",   "id-number",
                        ID_NUMBER, "bank-card",   "6222020200112233445",
                        "mobile",  "13900139000", NULL};
    const char *sms[] = {"mobile", "13800138000", "text", "【大家签】<&\"'> 验证码 123456", NULL};
    const char *fs[] = {"name",       "刘德华",
                        "id-number",  ID_NUMBER,
                        "return-url", "http://127.0.0.1:8080/cnca/api/face/return?a=1&b=2",
                        NULL};
    const char *fr[] = {"token", "0123456789abcdef0123456789abcdef", NULL};

    round_trip(p, s, CNCA_GW_MOBILE_3E, m3, &xml);
    ok(xml && strstr(xml, "<name>刘德华</name>"), "mobile-3e: Chinese kept as UTF-8 text");
    round_trip(p, s, CNCA_GW_BANKCARD_4E, b4, NULL);
    round_trip(p, s, CNCA_GW_SMS_SEND, sms, &xml);
    ok(xml && strstr(xml, "&lt;&amp;\"'&gt; 验证码") && !strstr(xml, "<&"),
       "sms-send: < & > escaped by the library");
    round_trip(p, s, CNCA_GW_FACE_START, fs, &xml);
    ok(xml && strstr(xml, "?a=1&amp;b=2</return-url>"), "face-start: & in the URL escaped");
    round_trip(p, s, CNCA_GW_FACE_RESULT, fr, NULL);

    cnca_gw_build_request(&xml, &id1, p, CNCA_GW_FACE_RESULT, fr);
    cnca_gw_build_request(&xml, &id2, p, CNCA_GW_FACE_RESULT, fr);
    ok(id1 && id2 && strcmp(id1, id2), "each request gets a new id");
}

static void test_request_misuse(void)
{
    apr_pool_t *p = tap_pool();
    const char *xml = "x", *id = "x";
    const char *missing[] = {"name", "刘德华", "id-number", ID_NUMBER, NULL};
    const char *extra[] = {"token", "0123456789abcdef", "text", "hello", NULL};
    const char *twice[] = {"token", "0123456789abcdef", "token", "0123456789abcdef", NULL};
    const char *badutf8[] = {"mobile", "13800138000", "text", "abc\xff\xfe", NULL};
    const char *control[] = {"mobile", "13800138000", "text", "a\001b", NULL};
    const char *null_value[] = {"token", NULL, NULL};

    log_lines[0] = '\0';
    is_int(cnca_gw_build_request(&xml, &id, p, "mobile-2e", missing), APR_EINVAL,
           "unknown type refused");
    ok(xml == NULL && id == NULL, "nothing handed back on failure");
    ok(strstr(log_lines, "CNCA00503:") != NULL, "a misuse is logged with its number");
    is_int(cnca_gw_build_request(&xml, &id, p, CNCA_GW_MOBILE_3E, missing), APR_EINVAL,
           "missing field refused");
    is_int(cnca_gw_build_request(&xml, &id, p, CNCA_GW_FACE_RESULT, extra), APR_EINVAL,
           "field the type does not take refused");
    is_int(cnca_gw_build_request(&xml, &id, p, CNCA_GW_FACE_RESULT, twice), APR_EINVAL,
           "field given twice refused");
    is_int(cnca_gw_build_request(&xml, &id, p, CNCA_GW_SMS_SEND, badutf8), APR_EINVAL,
           "invalid UTF-8 refused");
    is_int(cnca_gw_build_request(&xml, &id, p, CNCA_GW_SMS_SEND, control), APR_EINVAL,
           "control character refused");
    is_int(cnca_gw_build_request(&xml, &id, p, CNCA_GW_FACE_RESULT, null_value), APR_EINVAL,
           "NULL value refused");
    ok(!strstr(log_lines, "13800138000"), "log lines do not carry field values");
}

static void test_parse_request_rejects(void)
{
    apr_pool_t *p = tap_pool();
    cnca_gw_schema_t *s = schema(p);
    cnca_gw_request_t *req = NULL;
    const char *cause = NULL, *xml;

    xml = "<gateway-request xmlns=\"urn:cnca:gateway:1\" id=\"" ID "\" type=\"mobile-3e\">"
          "<name>刘德华</name><mobile>13800138000</mobile></gateway-request>";
    is_int(cnca_gw_parse_request(&req, &cause, p, xml, strlen(xml), s), APR_EGENERAL,
           "request without a field its type takes refused");
    is_str(cause, "mobile-3e request without id-number", "cause names the field");

    xml = "<gateway-request xmlns=\"urn:cnca:gateway:1\" id=\"" ID "\" type=\"sms-send\">"
          "<mobile>13800138000</mobile><text>hi</text><token>0123456789abcdef</token>"
          "</gateway-request>";
    is_int(cnca_gw_parse_request(&req, &cause, p, xml, strlen(xml), s), APR_EGENERAL,
           "request with a field its type does not take refused");

    xml = "<gateway-request xmlns=\"urn:cnca:gateway:1\" id=\"" ID "\" type=\"face-result\">"
          "<token>0123456789abcdef</token><token>0123456789abcdef</token></gateway-request>";
    is_int(cnca_gw_parse_request(&req, &cause, p, xml, strlen(xml), s), APR_EGENERAL,
           "field twice refused by the schema");

    xml = "<gateway-request xmlns=\"urn:cnca:gateway:1\" id=\"" ID "\" type=\"mobile-4e\">"
          "<token>0123456789abcdef</token></gateway-request>";
    is_int(cnca_gw_parse_request(&req, &cause, p, xml, strlen(xml), s), APR_EGENERAL,
           "unknown type refused by the schema");
    ok(cause && strstr(cause, "attribute 'type'"), "cause names the attribute");

    xml = resp_xml(p, CNCA_GW_NS, ID, "pass", "");
    is_int(cnca_gw_parse_request(&req, &cause, p, xml, strlen(xml), s), APR_EGENERAL,
           "a response is not a request");
    ok(req == NULL, "nothing handed back");
}

static void test_responses(void)
{
    apr_pool_t *p = tap_pool();
    cnca_gw_schema_t *s = schema(p);
    cnca_gw_response_t *resp = NULL;
    const char *cause = NULL, *xml = NULL;
    const char *face[] = {"token", "abcdef0123456789", "url",
                          "http://127.0.0.1:8080/sandbox/face?token=abcdef0123456789", NULL};
    const char *result[] = {"name", "刘德华", "id-number", ID_NUMBER, "score", "92.5", NULL};

    is_int(cnca_gw_build_response(&xml, p, ID, CNCA_GW_PASS, NULL, NULL, face), APR_SUCCESS,
           "pass answer with fields builds");
    is_int(cnca_gw_parse_response(&resp, &cause, p, xml, strlen(xml), ID, s), APR_SUCCESS,
           "pass answer reads back");
    if (resp) {
        ok(resp->result == CNCA_GW_PASS && !resp->reason_code && !resp->reason_text,
           "result pass, no reason");
        is_str(apr_table_get(resp->fields, "token"), "abcdef0123456789", "field token");
        is_str(apr_table_get(resp->fields, "url"),
               "http://127.0.0.1:8080/sandbox/face?token=abcdef0123456789", "field url");
        is_int(cnca_gw_check_response(&cause, p, CNCA_GW_FACE_START, resp), APR_SUCCESS,
               "face-start pass carries token and url");
        is_int(cnca_gw_check_response(&cause, p, CNCA_GW_FACE_RESULT, resp), APR_EGENERAL,
               "as a face-result answer it lacks name, id-number, score");
        is_str(cause, "a pass answer to face-result without name", "cause names the field");
    }

    is_int(cnca_gw_build_response(&xml, p, ID, CNCA_GW_PASS, NULL, NULL, result), APR_SUCCESS,
           "face-result pass builds");
    is_int(cnca_gw_parse_response(&resp, &cause, p, xml, strlen(xml), ID, s), APR_SUCCESS,
           "face-result pass reads back");
    if (resp) {
        is_str(apr_table_get(resp->fields, "name"), "刘德华", "field name");
        is_str(apr_table_get(resp->fields, "id-number"), ID_NUMBER, "field id-number");
        is_str(apr_table_get(resp->fields, "score"), "92.5", "field score");
        is_int(cnca_gw_check_response(&cause, p, CNCA_GW_FACE_RESULT, resp), APR_SUCCESS,
               "face-result pass complete");
    }

    is_int(cnca_gw_build_response(&xml, p, ID, CNCA_GW_FAIL, "mismatch", "手机号码与身份信息不一致",
                                  NULL),
           APR_SUCCESS, "fail answer builds");
    is_int(cnca_gw_parse_response(&resp, &cause, p, xml, strlen(xml), ID, s), APR_SUCCESS,
           "fail answer reads back");
    if (resp) {
        ok(resp->result == CNCA_GW_FAIL, "result fail");
        is_str(resp->reason_code, "mismatch", "reason code");
        is_str(resp->reason_text, "手机号码与身份信息不一致", "reason text");
        is_int(cnca_gw_check_response(&cause, p, CNCA_GW_FACE_RESULT, resp), APR_SUCCESS,
               "a fail answer needs no fields");
    }

    xml = resp_xml(p, CNCA_GW_NS, ID, "error", "<reason code=\"busy\">系统繁忙</reason>");
    is_int(cnca_gw_parse_response(&resp, &cause, p, xml, strlen(xml), ID, s), APR_SUCCESS,
           "error answer reads");
    ok(resp && resp->result == CNCA_GW_ERROR && !strcmp(resp->reason_code, "busy") &&
           !strcmp(resp->reason_text, "系统繁忙"),
       "result error with its reason");
    is_str(cnca_gw_result_name(CNCA_GW_ERROR), "error", "result name");

    is_int(cnca_gw_build_response(&xml, p, ID, CNCA_GW_FAIL, NULL, NULL, NULL), APR_EINVAL,
           "a fail answer without reason is not built");
    is_int(cnca_gw_build_response(&xml, p, ID, CNCA_GW_PASS, NULL, NULL,
                                  (const char *[]){"mobile", "13800138000", NULL}),
           APR_EINVAL, "a request field in an answer is not built");
}

static void rejects(apr_pool_t *p, cnca_gw_schema_t *s, const char *xml, const char *expect_id,
                    const char *cause_has, const char *what)
{
    cnca_gw_response_t *resp = (cnca_gw_response_t *)1;
    const char *cause = NULL;
    apr_status_t rv = cnca_gw_parse_response(&resp, &cause, p, xml, strlen(xml), expect_id, s);

    ok(rv == APR_EGENERAL && resp == NULL && cause && strstr(cause, cause_has), what);
    if (cause && !strstr(cause, cause_has)) {
        tap_diag(cause);
    }
}

static void test_response_rejects(void)
{
    apr_pool_t *p = tap_pool();
    cnca_gw_schema_t *s = schema(p);
    const char *cause = NULL, *xml;
    cnca_gw_response_t *resp;

    rejects(p, s, "<gateway-response xmlns=\"urn:cnca:gateway:1\" id=\"" ID "\" result=\"pass\">",
            NULL, "not well-formed", "malformed document refused");
    rejects(p, s, "", NULL, "empty", "empty body refused");
    rejects(p, s, resp_xml(p, "urn:cnca:gateway:2", ID, "pass", ""), NULL, "namespace",
            "wrong namespace refused");
    rejects(p, s, "<gateway-response id=\"" ID "\" result=\"pass\"/>", NULL, "namespace",
            "no namespace refused");
    rejects(p, s, resp_xml(p, CNCA_GW_NS, ID, "maybe", ""), NULL, "attribute 'result'",
            "unknown result value refused by the schema");
    rejects(p, s, resp_xml(p, CNCA_GW_NS, ID, "pass", ""), "11111111-2222-4333-8444-555555555555",
            "another request id", "wrong id refused");
    rejects(p, s, resp_xml(p, CNCA_GW_NS, "not-a-uuid", "pass", ""), NULL, "attribute 'id'",
            "malformed id refused by the schema");
    rejects(p, s, resp_xml(p, CNCA_GW_NS, ID, "fail", ""), NULL, "without a reason",
            "fail answer without reason refused");
    rejects(p, s, resp_xml(p, CNCA_GW_NS, ID, "pass", "<extra>1</extra>"), NULL, "element 'extra'",
            "unknown element refused by the schema");
    rejects(p, s, resp_xml(p, CNCA_GW_NS, ID, "pass", "<score>120</score>"), NULL,
            "element 'score'", "score over 100 refused by the schema");
    rejects(p, s,
            resp_xml(p, CNCA_GW_NS, ID, "pass", "<id-number>110105194912310029999</id-number>"),
            NULL, "element 'id-number'", "bad id-number refused by the schema");
    xml = resp_xml(p, CNCA_GW_NS, ID, "pass", "<id-number>110105194912310029999</id-number>");
    cnca_gw_parse_response(&resp, &cause, p, xml, strlen(xml), NULL, s);
    ok(cause && !strstr(cause, "1101051949"), "a schema cause does not quote the value");
    rejects(p, s,
            "<?xml version=\"1.0\"?>\n<!DOCTYPE gateway-response [<!ENTITY x \"pass\">]>\n"
            "<gateway-response xmlns=\"urn:cnca:gateway:1\" id=\"" ID "\" result=\"pass\"/>",
            NULL, "DTD", "a DTD is refused");
    rejects(p, s,
            "<gateway-request xmlns=\"urn:cnca:gateway:1\" id=\"" ID "\" type=\"face-result\">"
            "<token>0123456789abcdef</token></gateway-request>",
            NULL, "not gateway-response", "a request is not an answer");
}

static void test_signature(void)
{
    apr_pool_t *p = tap_pool();
    const unsigned char *secret = (const unsigned char *)"secret";
    /* printf '1700000000\n<x/>' | openssl dgst -sha256 -hmac secret */
    const char *want = "eb0e7db9705dee613adb73c569ee736fab164b3b74a8a0ae890de35c3ed07185";
    apr_time_t at = apr_time_from_sec(1700000000);

    is_str(cnca_gw_signature(p, secret, 6, "1700000000", "<x/>", 4), want,
           "signature matches openssl dgst -hmac");
    ok(cnca_gw_signature_ok(p, secret, 6, "1700000000", want, "<x/>", 4, at), "signature ok");
    ok(cnca_gw_signature_ok(p, secret, 6, "1700000000",
                            "EB0E7DB9705DEE613ADB73C569EE736FAB164B3B74A8A0AE890DE35C3ED07185",
                            "<x/>", 4, at),
       "uppercase hex ok");
    ok(!cnca_gw_signature_ok(p, secret, 6, "1700000000", want, "<y/>", 4, at),
       "another body refused");
    ok(!cnca_gw_signature_ok(p, (const unsigned char *)"secreT", 6, "1700000000", want, "<x/>", 4,
                             at),
       "another secret refused");
    ok(!cnca_gw_signature_ok(p, secret, 6, "1700000001", want, "<x/>", 4, at),
       "another timestamp refused");
    ok(!cnca_gw_signature_ok(p, secret, 6, "1700000000", "eb0e7db9", "<x/>", 4, at),
       "short signature refused");
    ok(!cnca_gw_signature_ok(p, secret, 6, "1700000000", NULL, "<x/>", 4, at),
       "missing signature refused");
    ok(!cnca_gw_signature_ok(p, secret, 6, NULL, want, "<x/>", 4, at), "missing timestamp refused");
    ok(!cnca_gw_signature_ok(p, secret, 6, "+1700000000", want, "<x/>", 4, at),
       "timestamp with a sign refused");

    ok(cnca_gw_signature_ok(p, secret, 6, "1700000000", want, "<x/>", 4,
                            apr_time_from_sec(1700000000 + 300)),
       "300 s late ok");
    ok(cnca_gw_signature_ok(p, secret, 6, "1700000000", want, "<x/>", 4,
                            apr_time_from_sec(1700000000 - 300)),
       "300 s early ok");
    ok(!cnca_gw_signature_ok(p, secret, 6, "1700000000", want, "<x/>", 4,
                             apr_time_from_sec(1700000000 + 301)),
       "301 s late refused");
    ok(!cnca_gw_signature_ok(p, secret, 6, "1700000000", want, "<x/>", 4,
                             apr_time_from_sec(1700000000 - 301)),
       "301 s early refused");
}

static const char *write_temp(apr_pool_t *p, const char *content)
{
    char *path = apr_pstrdup(p, "/tmp/test_gateway_secretXXXXXX");
    int fd = mkstemp(path);

    if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
        printf("Bail out! cannot write %s\n", path);
        exit(1);
    }
    close(fd);
    return path;
}

static void test_secret(void)
{
    apr_pool_t *p = tap_pool();
    const unsigned char *secret = NULL;
    const char *msg = NULL, *path;
    apr_size_t len = 0;

    path = write_temp(p, "  0123456789abcdef-sandbox \n");
    is_int(cnca_gw_secret_load(&secret, &len, &msg, p, path), APR_SUCCESS, "secret file read");
    ok(len == 24 && secret && !memcmp(secret, "0123456789abcdef-sandbox", 24),
       "whitespace trimmed");
    unlink(path);

    path = write_temp(p, "short-secret\n");
    is_int(cnca_gw_secret_load(&secret, &len, &msg, p, path), APR_EINVAL, "short secret refused");
    ok(msg && strstr(msg, "shorter than 16") && !strstr(msg, "short-secret"),
       "message says why without the secret");
    unlink(path);

    ok(cnca_gw_secret_load(&secret, &len, &msg, p, "/nonexistent/secret") != APR_SUCCESS &&
           secret == NULL && msg && strstr(msg, "/nonexistent/secret"),
       "missing file refused with its path");
}

static void test_schema_load(void)
{
    apr_pool_t *p = tap_pool();
    cnca_gw_schema_t *s = (cnca_gw_schema_t *)1;

    log_lines[0] = '\0';
    ok(cnca_gw_schema_load(&s, p, "/nonexistent/gateway.xsd") != APR_SUCCESS && s == NULL,
       "missing schema file refused");
    ok(strstr(log_lines, "CNCA00501:") != NULL, "and logged");
    ok(cnca_gw_schema_load(&s, p, "conf") != APR_SUCCESS, "a directory is not a schema");
    ok(cnca_gw_type_known("face-start") && !cnca_gw_type_known("face") && !cnca_gw_type_known(NULL),
       "type_known");
}

int main(void)
{
    xmlInitParser();
    cnca_log_set_sink(log_sink, NULL);
    test_requests();
    test_request_misuse();
    test_parse_request_rejects();
    test_responses();
    test_response_rejects();
    test_signature();
    test_secret();
    test_schema_load();
    return tap_done();
}
