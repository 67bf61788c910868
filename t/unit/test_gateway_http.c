/* The gateway client (cnca_gateway_http.c) against a tiny HTTP server on
 * 127.0.0.1 in this process: signed POSTs, kept-alive connections reused,
 * and every way an answer can be wrong is an error, never a pass. The
 * request's sms text (or return-url) says how the server answers:
 * "mode:NAME". Run from the project root (reads conf/gateway.xsd). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <apr_strings.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "cnca_gateway.h"
#include "cnca_log.h"
#include "tap.h"

#define XSD "conf/gateway.xsd"
#define SECRET "unit-test-secret-0123456789"
#define TIMEOUT apr_time_from_msec(400)
#define BUF_SIZE 200000

static int server_port;
static int connections;
static char log_lines[16384];
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

static void log_sink(void *baton, const char *file, int line, cnca_log_level_t level,
                     apr_status_t rv, const char *msg)
{
    (void)baton, (void)file, (void)line, (void)level, (void)rv;
    pthread_mutex_lock(&log_mutex);
    apr_cpystrn(log_lines + strlen(log_lines), msg, sizeof(log_lines) - strlen(log_lines));
    apr_cpystrn(log_lines + strlen(log_lines), "\n", sizeof(log_lines) - strlen(log_lines));
    pthread_mutex_unlock(&log_mutex);
}

static void send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0) {
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* The value of header `name` in the header block, copied into out. */
static void header(char *out, size_t size, const char *head, const char *name)
{
    const char *s = head;
    size_t nlen = strlen(name);

    out[0] = '\0';
    while ((s = strstr(s, "\r\n")) != NULL) {
        s += 2;
        if (!strncasecmp(s, name, nlen) && s[nlen] == ':') {
            s += nlen + 1;
            while (*s == ' ') {
                ++s;
            }
            apr_cpystrn(out, s, size < strcspn(s, "\r") + 1 ? size : strcspn(s, "\r") + 1);
            return;
        }
    }
}

/* Answers one request as its mode says. */
static int answer(int fd, const char *head, const char *body, size_t body_len)
{
    apr_pool_t *p;
    char ts[32], sig[128], id[40] = "", mode[32] = "pass";
    const char *m, *i, *xml = "", *extra = "";
    int status = 200, keep = 1;

    apr_pool_create(&p, NULL);
    header(ts, sizeof(ts), head, CNCA_GW_HEADER_TIMESTAMP);
    header(sig, sizeof(sig), head, CNCA_GW_HEADER_SIGNATURE);
    if ((m = strstr(body, "mode:")) != NULL) {
        apr_cpystrn(mode, m + 5,
                    strcspn(m + 5, "<&\"") + 1 < sizeof(mode) ? strcspn(m + 5, "<&\"") + 1
                                                              : sizeof(mode));
    }
    if ((i = strstr(body, " id=\"")) != NULL) {
        apr_cpystrn(id, i + 5, 37);
    }
    if (!cnca_gw_signature_ok(p, (const unsigned char *)SECRET, strlen(SECRET), ts, sig, body,
                              body_len, apr_time_now())) {
        status = 403;
        xml = "bad signature";
    } else if (!strcmp(mode, "pass") || !strcmp(mode, "http500") || !strcmp(mode, "close") ||
               !strcmp(mode, "slow") || !strcmp(mode, "nofields")) {
        cnca_gw_build_response(&xml, p, id, CNCA_GW_PASS, NULL, NULL, NULL);
        status = strcmp(mode, "http500") ? 200 : 500;
        if (!strcmp(mode, "close")) {
            extra = "Connection: close\r\n";
            keep = 0;
        }
        if (!strcmp(mode, "slow")) {
            usleep(1000 * 1000);
        }
    } else if (!strcmp(mode, "fail")) {
        cnca_gw_build_response(&xml, p, id, CNCA_GW_FAIL, "mismatch", "手机号码与身份信息不一致",
                               NULL);
    } else if (!strcmp(mode, "wrong-id")) {
        cnca_gw_build_response(&xml, p, "11111111-2222-4333-8444-555555555555", CNCA_GW_PASS, NULL,
                               NULL, NULL);
    } else if (!strcmp(mode, "badxml")) {
        xml = "<gateway-response xmlns=\"urn:cnca:gateway:1\"";
    } else if (!strcmp(mode, "big")) {
        char *big = apr_palloc(p, 70001);
        memset(big, ' ', 70000);
        big[70000] = '\0';
        xml = big;
    }
    const char *out = apr_psprintf(p,
                                   "HTTP/1.1 %d X\r\nContent-Type: application/xml\r\n"
                                   "Content-Length: %" APR_SIZE_T_FMT "\r\n%s\r\n%s",
                                   status, strlen(xml), extra, xml);
    send_all(fd, out, strlen(out));
    apr_pool_destroy(p);
    return keep;
}

static void *connection_main(void *arg)
{
    int fd = (int)(long)arg;
    char *buf = malloc(BUF_SIZE);
    size_t have = 0;

    for (;;) {
        char *end, cl[32];
        size_t head_len, body_len;
        ssize_t n;

        buf[have] = '\0';
        while ((end = strstr(buf, "\r\n\r\n")) == NULL) {
            n = recv(fd, buf + have, BUF_SIZE - 1 - have, 0);
            if (n <= 0) {
                goto done;
            }
            have += (size_t)n;
            buf[have] = '\0';
        }
        head_len = (size_t)(end - buf) + 4;
        end[2] = '\0'; /* headers end with one "\r\n" */
        header(cl, sizeof(cl), buf, "Content-Length");
        body_len = (size_t)atol(cl);
        while (have < head_len + body_len) {
            n = recv(fd, buf + have, BUF_SIZE - 1 - have, 0);
            if (n <= 0) {
                goto done;
            }
            have += (size_t)n;
        }
        char *body = malloc(body_len + 1);
        memcpy(body, buf + head_len, body_len);
        body[body_len] = '\0';
        int keep = answer(fd, buf, body, body_len);
        free(body);
        memmove(buf, buf + head_len + body_len, have - head_len - body_len);
        have -= head_len + body_len;
        if (!keep) {
            goto done;
        }
    }
done:
    free(buf);
    close(fd);
    return NULL;
}

static void *server_main(void *arg)
{
    int lfd = (int)(long)arg;

    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        pthread_t t;
        if (fd < 0) {
            return NULL;
        }
        __sync_fetch_and_add(&connections, 1);
        pthread_create(&t, NULL, connection_main, (void *)(long)fd);
        pthread_detach(t);
    }
}

static int listen_on(int *pport)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64) ||
        getsockname(fd, (struct sockaddr *)&a, &alen)) {
        printf("Bail out! cannot listen on 127.0.0.1\n");
        exit(1);
    }
    *pport = ntohs(a.sin_port);
    return fd;
}

static cnca_gw_schema_t *the_schema;

static cnca_gw_client_t *client(apr_pool_t *p, int port, const char *secret)
{
    cnca_gw_client_t *c = NULL;
    const char *url = apr_psprintf(p, "http://127.0.0.1:%d/sandbox/gateway", port);

    cnca_gw_client_create(&c, p, url, (const unsigned char *)secret, strlen(secret), TIMEOUT,
                          the_schema);
    return c;
}

static apr_status_t sms(cnca_gw_response_t **presp, const char **pcause, cnca_gw_client_t *c,
                        apr_pool_t *p, const char *mode)
{
    const char *kv[] = {"mobile", "13800138000", "text", apr_pstrcat(p, "mode:", mode, NULL), NULL};
    return cnca_gw_call(presp, pcause, c, p, CNCA_GW_SMS_SEND, kv);
}

static void expect_error(cnca_gw_client_t *c, const char *mode, apr_status_t want,
                         const char *cause_has, const char *what)
{
    apr_pool_t *p = tap_pool();
    cnca_gw_response_t *resp = (cnca_gw_response_t *)1;
    const char *cause = NULL;
    apr_status_t rv;

    log_lines[0] = '\0';
    rv = sms(&resp, &cause, c, p, mode);
    ok(rv == want && resp == NULL && cause && strstr(cause, cause_has), what);
    if (!cause || !strstr(cause, cause_has)) {
        tap_diag(cause ? cause : "(no cause)");
    }
    ok(strstr(log_lines, "CNCA00513: gateway sms-send failed: ") != NULL &&
           !strstr(log_lines, "13800138000"),
       "  logged with its number, without the mobile");
}

static void test_create(void)
{
    apr_pool_t *p = tap_pool();
    cnca_gw_client_t *c = (cnca_gw_client_t *)1;

    is_int(cnca_gw_client_create(&c, p, "ftp://127.0.0.1/", (const unsigned char *)SECRET,
                                 strlen(SECRET), TIMEOUT, the_schema),
           APR_EINVAL, "ftp URL refused");
    ok(c == NULL, "no client");
    is_int(cnca_gw_client_create(&c, p, "http://127.0.0.1/", (const unsigned char *)SECRET,
                                 strlen(SECRET), 0, the_schema),
           APR_EINVAL, "zero timeout refused");
}

static void test_calls(void)
{
    apr_pool_t *p = tap_pool();
    cnca_gw_client_t *c = client(p, server_port, SECRET);
    cnca_gw_response_t *resp = NULL;
    const char *cause = NULL;
    int i, before;
    apr_time_t t0;

    ok(c != NULL, "client created");
    if (!c) {
        return;
    }
    before = connections;
    for (i = 0; i < 3; ++i) {
        is_int(sms(&resp, &cause, c, p, "pass"), APR_SUCCESS, "signed call answered");
        ok(resp && resp->result == CNCA_GW_PASS, "  pass");
    }
    is_int(connections - before, 1, "three calls, one kept-alive connection");

    is_int(sms(&resp, &cause, c, p, "fail"), APR_SUCCESS, "a fail answer is a success");
    ok(resp && resp->result == CNCA_GW_FAIL && !strcmp(resp->reason_code, "mismatch") &&
           !strcmp(resp->reason_text, "手机号码与身份信息不一致"),
       "  result fail with the reason");

    expect_error(c, "wrong-id", APR_EGENERAL, "another request id", "answer for another id");
    expect_error(c, "http500", APR_EGENERAL, "HTTP status 500", "HTTP 500 with a pass body");
    expect_error(c, "badxml", APR_EGENERAL, "not well-formed", "malformed answer");
    expect_error(c, "big", APR_EGENERAL, "larger than 65536", "answer over the size cap");

    t0 = apr_time_now();
    expect_error(c, "slow", APR_TIMEUP, "no answer within 400 ms", "slow gateway times out");
    ok(apr_time_now() - t0 < apr_time_from_msec(900), "  within the timeout");

    before = connections;
    is_int(sms(&resp, &cause, c, p, "close"), APR_SUCCESS, "answer with Connection: close");
    is_int(sms(&resp, &cause, c, p, "pass"), APR_SUCCESS, "next call reconnects");
    is_int(connections - before, 2, "  on a new connection");

    {
        const char *kv[] = {"name",       "刘德华",
                            "id-number",  "11010519491231002X",
                            "return-url", "http://127.0.0.1/cnca/api/face/return?mode:nofields",
                            NULL};
        resp = (cnca_gw_response_t *)1;
        is_int(cnca_gw_call(&resp, &cause, c, p, CNCA_GW_FACE_START, kv), APR_EGENERAL,
               "face-start pass without token and url is an error");
        ok(resp == NULL && cause && strstr(cause, "without token"), "  cause names the field");
    }
    {
        const char *kv[] = {"mobile", "13800138000", NULL};
        is_int(cnca_gw_call(&resp, &cause, c, p, CNCA_GW_SMS_SEND, kv), APR_EINVAL,
               "a request missing a field is not sent");
    }
}

static void test_bad_secret(void)
{
    apr_pool_t *p = tap_pool();
    cnca_gw_client_t *c = client(p, server_port, "another-secret-0123456789");

    expect_error(c, "pass", APR_EGENERAL, "HTTP status 403", "gateway refuses a bad signature");
}

static void test_refused(void)
{
    apr_pool_t *p = tap_pool();
    int port, fd = listen_on(&port);
    cnca_gw_client_t *c;

    close(fd); /* nothing listens there now */
    c = client(p, port, SECRET);
    expect_error(c, "pass", APR_EGENERAL, "onnect", "connection refused");
}

typedef struct {
    cnca_gw_client_t *c;
    int passed;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    apr_pool_t *p;
    cnca_gw_response_t *resp;
    const char *cause;
    int i;

    apr_pool_create(&p, NULL);
    for (i = 0; i < 10; ++i) {
        if (sms(&resp, &cause, w->c, p, "pass") == APR_SUCCESS && resp->result == CNCA_GW_PASS) {
            ++w->passed;
        }
    }
    apr_pool_destroy(p);
    return NULL;
}

static void test_threads(void)
{
    apr_pool_t *p = tap_pool();
    cnca_gw_client_t *c = client(p, server_port, SECRET);
    pthread_t t[8];
    worker_t w[8];
    int i, passed = 0, before = connections;

    for (i = 0; i < 8; ++i) {
        w[i].c = c;
        w[i].passed = 0;
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (i = 0; i < 8; ++i) {
        pthread_join(t[i], NULL);
        passed += w[i].passed;
    }
    is_int(passed, 80, "8 threads x 10 calls on one client all pass");
    ok(connections - before <= 8, "  on at most one connection per thread");
}

int main(void)
{
    apr_pool_t *p;
    pthread_t server;
    int lfd;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
    cnca_log_set_sink(log_sink, NULL);
    p = tap_pool();
    if (cnca_gw_schema_load(&the_schema, p, XSD) != APR_SUCCESS) {
        printf("Bail out! cannot load %s\n", XSD);
        return 1;
    }
    lfd = listen_on(&server_port);
    pthread_create(&server, NULL, server_main, (void *)(long)lfd);
    pthread_detach(server);

    test_create();
    test_calls();
    test_bad_secret();
    test_refused();
    test_threads();
    return tap_done();
}
