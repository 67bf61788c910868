/* Load driver for `make bench` (tools/bench.sh): many concurrent applicants
 * over libcurl's multi interface, each with its own cookie engine.
 *
 *   enroll_driver enroll BASE CONCURRENCY SECONDS [FIRST [SIGNATURE]]
 *       runs applicants through the whole manual 3.1 flow (API.md) for
 *       SECONDS, then lets the flows in progress finish; prints completed
 *       flows per second, failures and p50/p99 per step. FIRST numbers the
 *       first applicant (its ID number and mobile), so that two runs against
 *       one database use different people. SIGNATURE is the size of the
 *       handwritten signature PNG, WxH (default 800x320: what
 *       htdocs/js/signature.js uploads for a name written 300x120 CSS pixels
 *       large on a phone with devicePixelRatio 3: the strokes cut out of the
 *       pad at device resolution, 900x360, scaled to fit 800x400, on a
 *       transparent canvas; 900x360 is what the page sent before it scaled).
 *
 *   enroll_driver hammer BASE CONCURRENCY REQUESTS
 *       REQUESTS API requests that change nothing durable but the audit
 *       table: GET /session, POST /apply with a bad ID number (400
 *       invalid_input), GET /captcha, in turn, on CONCURRENCY sessions.
 *
 *   enroll_driver cookie BASE
 *       makes a session with GET /session and prints its cookie as a Cookie
 *       header value ("cnca_session=..."); exit status 1 when the API does
 *       not answer 200 (tools/bench.sh also uses it to wait for httpd).
 *
 * BASE is http://127.0.0.1:PORT. Every answer is checked; anything
 * unexpected is a failure, counted and (the first few) printed. A request
 * gets REQUEST_TIMEOUT seconds; an enroll run stops DRAIN_SECONDS after its
 * end and a hammer run after HAMMER_SECONDS whatever is still in flight
 * (counted as failed), so a stuck server cannot hold the bench up. The last
 * line is machine-readable: "RESULT key=value ...". Exit status 0 when there
 * was no failure. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <math.h>
#include <sys/resource.h>

#include <curl/curl.h>
#include <gd.h>
#include <jansson.h>

#define MAX_CONCURRENCY 1024
#define MAX_FAILURES_SHOWN 8
#define SMS_READ_TRIES 20
/* seconds: one request; the flows in progress after an enroll run's end;
 * a whole hammer run */
#define REQUEST_TIMEOUT 10
#define DRAIN_SECONDS 15
#define HAMMER_SECONDS 90

/* ---- time and latency series ---- */

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

typedef struct {
    double *v;
    size_t n, cap;
} series_t;

static void series_add(series_t *s, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (!s->v) {
            fprintf(stderr, "enroll_driver: out of memory\n");
            exit(2);
        }
    }
    s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted series. */
static double percentile(const series_t *s, double pct)
{
    size_t rank;

    if (!s->n) {
        return 0;
    }
    rank = (size_t)(pct / 100.0 * (double)s->n + 0.999999);
    if (rank < 1) {
        rank = 1;
    }
    if (rank > s->n) {
        rank = s->n;
    }
    return s->v[rank - 1];
}

/* ---- growable buffer for response bodies ---- */

typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    buf_t *b = userdata;
    size_t n = size * nmemb;

    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        if (!(b->data = realloc(b->data, cap))) {
            return 0;
        }
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* ---- test images (libgd) ---- */

typedef struct {
    void *data;
    int len;
} image_t;

/* What the signature pad uploads: anti-aliased black strokes (a wavy line
 * like a written name, and two cross strokes) on a transparent canvas. */
static image_t make_signature_png(int w, int h)
{
    image_t img = {NULL, 0};
    gdImagePtr im = gdImageCreateTrueColor(w, h);
    int i, pen = w / 120 > 2 ? w / 120 : 2;

    if (!im) {
        return img;
    }
    gdImageAlphaBlending(im, 0);
    gdImageSaveAlpha(im, 1);
    gdImageFilledRectangle(im, 0, 0, w - 1, h - 1, gdTrueColorAlpha(0, 0, 0, gdAlphaTransparent));
    gdImageAlphaBlending(im, 1);
    gdImageSetThickness(im, pen);
    for (i = 0; i < 240; ++i) {
        double t0 = i / 240.0, t1 = (i + 1) / 240.0;
        gdImageLine(im, (int)(w * (0.05 + 0.9 * t0)), (int)(h * (0.5 + 0.3 * sin(t0 * 19))),
                    (int)(w * (0.05 + 0.9 * t1)), (int)(h * (0.5 + 0.3 * sin(t1 * 19))),
                    gdTrueColorAlpha(0, 0, 0, 0));
    }
    gdImageLine(im, w / 5, h / 5, w / 3, h * 4 / 5, gdTrueColorAlpha(0, 0, 0, 0));
    gdImageLine(im, w * 3 / 5, h / 4, w * 4 / 5, h * 3 / 4, gdTrueColorAlpha(0, 0, 0, 0));
    img.data = gdImagePngPtr(im, &img.len);
    gdImageDestroy(im);
    return img;
}

/* The sandbox's face capture: white with a dark stroke. */
static image_t make_png(int w, int h)
{
    image_t img = {NULL, 0};
    gdImagePtr im = gdImageCreateTrueColor(w, h);

    if (!im) {
        return img;
    }
    gdImageFilledRectangle(im, 0, 0, w - 1, h - 1, gdTrueColor(255, 255, 255));
    gdImageSetThickness(im, 4);
    gdImageLine(im, w / 8, h / 2, w * 7 / 8, h / 3, gdTrueColor(20, 20, 20));
    gdImageLine(im, w / 4, h * 2 / 3, w * 3 / 4, h * 2 / 3, gdTrueColor(20, 20, 20));
    img.data = gdImagePngPtr(im, &img.len);
    gdImageDestroy(im);
    return img;
}

/* ---- applicants ---- */

/* A valid GB 11643 ID number for applicant k: Shanghai Huangpu (310101),
 * born 1960-01-01 + k/1000 days, sequence k%1000; unique for k < 14.6e6. */
static void id_number_for(char out[64], long k)
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char checks[] = "10X98765432";
    struct tm tm;
    time_t t;
    int i, sum = 0;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = 60;
    tm.tm_mday = 1 + (int)(k / 1000);
    tm.tm_hour = 12;
    t = timegm(&tm);
    gmtime_r(&t, &tm);
    snprintf(out, 64, "310101%04d%02d%02d%03u", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             (unsigned)(k % 1000));
    for (i = 0; i < 17; ++i) {
        sum += (out[i] - '0') * weights[i];
    }
    out[17] = checks[sum % 11];
    out[18] = '\0';
}

/* 139 numbers are real-name in the sandbox */
static void mobile_for(char out[16], long k)
{
    snprintf(out, 16, "139%08lu", (unsigned long)k % 100000000UL);
}

typedef enum {
    ST_SESSION,
    ST_APPLY,
    ST_CAPTCHA,
    ST_SMS,
    ST_SMS_READ,
    ST_VERIFY,
    ST_FACE_START,
    ST_FACE_CAPTURE,
    ST_FACE_RETURN,
    ST_CONFIRM,
    ST_SIGNATURE,
    ST_ME,
    N_STEPS,
    /* hammer mode's requests */
    H_SESSION = N_STEPS,
    H_APPLY_BAD,
    H_CAPTCHA,
    N_KINDS
} step_t;

static const char *const step_names[N_KINDS] = {
    "GET /session",           "POST /apply",
    "GET /captcha",           "POST /sms",
    "GET /sandbox/sms",       "POST /verify/mobile",
    "POST /face/start",       "POST /sandbox/face/capture",
    "GET /face/return (303)", "POST /confirm (issues)",
    "POST /me/signature",     "GET /me",
    "GET /session",           "POST /apply (invalid)",
    "GET /captcha",
};

typedef struct {
    CURL *easy;
    step_t step;
    long k; /* applicant number */
    char idn[64], mobile[16];
    char csrf[128], captcha[16], code[8], token[128];
    char *back_url;
    int sms_tries;
    struct curl_slist *headers;
    char *req_body; /* JSON request body, owned */
    buf_t body;
    char hdr_captcha[16];
    char location[1024];
    double t_step, t_flow;
    int busy;
} applicant_t;

typedef struct {
    const char *base;
    CURLM *multi;
    applicant_t *apps;
    int concurrency;
    image_t face_png, sig_png;
    series_t lat[N_KINDS], flow;
    long next_k;
    long completed, failures, failed_at[N_KINDS];
    long started_requests, done_requests, max_requests;
    int shown;
} driver_t;

/* When the header line (n bytes) is "NAME: value", copies the value into
 * out; 1 when it was. */
static int header_value(const char *line, size_t n, const char *name, char *out, size_t size)
{
    size_t len = strlen(name);
    const char *v;

    if (n <= len + 1 || strncasecmp(line, name, len) || line[len] != ':') {
        return 0;
    }
    for (v = line + len + 1; *v == ' '; ++v) {
    }
    snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
    return 1;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    applicant_t *a = userdata;
    size_t n = size * nitems;

    if (!header_value(buf, n, "X-CNCA-Sandbox-Captcha", a->hdr_captcha, sizeof(a->hdr_captcha))) {
        header_value(buf, n, "Location", a->location, sizeof(a->location));
    }
    return n;
}

static void fail_note(driver_t *d, applicant_t *a, long status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_note(driver_t *d, applicant_t *a, long status, const char *fmt, ...)
{
    va_list ap;

    d->failures++;
    d->failed_at[a->step]++;
    if (d->shown++ >= MAX_FAILURES_SHOWN) {
        return;
    }
    fprintf(stderr, "failure at %s (applicant %ld): HTTP %ld: ", step_names[a->step], a->k, status);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; body: %.300s\n", a->body.data ? a->body.data : "");
}

/* Sets up the request of a->step on its handle and adds it to the multi. */
static void submit(driver_t *d, applicant_t *a)
{
    CURL *e = a->easy;
    char url[2048], hdr[256];
    const char *base = d->base, *path, *arg = "";
    const void *post = NULL;
    long post_len = 0;
    const char *ctype = "application/json";
    json_t *j = NULL;

    free(a->req_body);
    a->req_body = NULL;
    curl_slist_free_all(a->headers);
    a->headers = NULL;
    a->body.len = 0;
    if (a->body.data) {
        a->body.data[0] = '\0';
    }
    a->hdr_captcha[0] = a->location[0] = '\0';

    switch (a->step) {
        case ST_SESSION:
        case H_SESSION:
            path = "/cnca/api/session";
            break;
        case ST_APPLY:
            path = "/cnca/api/apply";
            j = json_pack("{s:s, s:s, s:s}", "name", "张三丰", "id_number", a->idn, "mobile",
                          a->mobile);
            break;
        case H_APPLY_BAD:
            path = "/cnca/api/apply";
            j = json_pack("{s:s, s:s, s:s}", "name", "张三丰", "id_number", "310101199001011230",
                          "mobile", "13900000000");
            break;
        case ST_CAPTCHA:
        case H_CAPTCHA:
            path = "/cnca/api/captcha";
            break;
        case ST_SMS:
            path = "/cnca/api/sms";
            j = json_pack("{s:s, s:s}", "mobile", a->mobile, "captcha", a->captcha);
            break;
        case ST_SMS_READ:
            path = "/sandbox/sms?mobile=";
            arg = a->mobile;
            break;
        case ST_VERIFY:
            path = "/cnca/api/verify/mobile";
            j = json_pack("{s:s, s:b}", "sms_code", a->code, "agree", 1);
            break;
        case ST_FACE_START:
            path = "/cnca/api/face/start";
            j = json_object();
            break;
        case ST_FACE_CAPTURE:
            path = "/sandbox/face/capture?token=";
            arg = a->token;
            post = d->face_png.data;
            post_len = d->face_png.len;
            ctype = "image/png";
            break;
        case ST_FACE_RETURN:
            base = ""; /* the sandbox's redirect: a whole URL */
            path = a->back_url;
            break;
        case ST_CONFIRM:
            path = "/cnca/api/confirm";
            j = json_pack("{s:s}", "mobile", a->mobile);
            break;
        case ST_SIGNATURE:
            path = "/cnca/api/me/signature?source=handwrite";
            post = d->sig_png.data;
            post_len = d->sig_png.len;
            ctype = "image/png";
            break;
        case ST_ME:
            path = "/cnca/api/me";
            break;
        default:
            abort();
    }
    snprintf(url, sizeof(url), "%s%s%s", base, path, arg);
    if (j) {
        a->req_body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        post = a->req_body;
        post_len = (long)strlen(a->req_body);
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    if (post) {
        snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
        a->headers = curl_slist_append(a->headers, hdr);
        snprintf(hdr, sizeof(hdr), "X-CNCA-CSRF: %s", a->csrf);
        a->headers = curl_slist_append(a->headers, hdr);
        a->headers = curl_slist_append(a->headers, "Expect:");
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, post_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, post);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers);
    a->t_step = now_ms();
    a->busy = 1;
    d->started_requests++;
    curl_multi_add_handle(d->multi, e);
}

/* A new applicant on the slot: fresh cookies, next number. */
static void start_applicant(driver_t *d, applicant_t *a)
{
    curl_easy_setopt(a->easy, CURLOPT_COOKIELIST, "ALL");
    a->k = d->next_k++;
    id_number_for(a->idn, a->k);
    mobile_for(a->mobile, a->k);
    a->csrf[0] = a->captcha[0] = a->code[0] = a->token[0] = '\0';
    free(a->back_url);
    a->back_url = NULL;
    a->sms_tries = 0;
    a->step = ST_SESSION;
    a->t_flow = now_ms();
    submit(d, a);
}

static int json_ok(json_t *j)
{
    return json_is_object(j) && json_is_true(json_object_get(j, "ok"));
}

static const char *json_str(json_t *j, const char *key)
{
    json_t *v = json_is_object(j) ? json_object_get(j, key) : NULL;

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* 1 when j has the string want at key. */
static int json_str_is(json_t *j, const char *key, const char *want)
{
    const char *s = json_str(j, key);

    return s && !strcmp(s, want);
}

/* A 200 {"ok": true, "csrf": ...} answer (GET /session, POST /confirm):
 * keeps the token the next requests send; 1 when it was one. */
static int take_csrf(applicant_t *a, long status, json_t *j)
{
    const char *s;

    if (status != 200 || !json_ok(j) || !(s = json_str(j, "csrf"))) {
        return 0;
    }
    snprintf(a->csrf, sizeof(a->csrf), "%s", s);
    return 1;
}

/* The 6-digit code in the newest SMS of the list ("...验证码为NNNNNN..."). */
static int find_code(char out[8], json_t *list)
{
    static const char mark[] = "验证码为";
    size_t i;

    for (i = 0; json_is_array(list) && i < json_array_size(list); ++i) {
        const char *text = json_str(json_array_get(list, i), "text");
        const char *at = text ? strstr(text, mark) : NULL;
        int n;

        if (!at) {
            continue;
        }
        at += sizeof(mark) - 1;
        for (n = 0; n < 6 && isdigit((unsigned char)at[n]); ++n) {
        }
        if (n == 6) {
            memcpy(out, at, 6);
            out[6] = '\0';
            return 1;
        }
    }
    return 0;
}

/* Checks the answer of the enrollment step just done; 1 to go on. */
static int enroll_check(driver_t *d, applicant_t *a, long status)
{
    json_t *j = NULL;
    const char *s;
    int ok = 0;

    if (a->step != ST_CAPTCHA && a->step != ST_FACE_RETURN) {
        j = json_loadb(a->body.data ? a->body.data : "", a->body.len, 0, NULL);
    }
    switch (a->step) {
        case ST_SESSION:
            ok = take_csrf(a, status, j);
            break;
        case ST_APPLY:
            ok = status == 200 && json_ok(j);
            break;
        case ST_CAPTCHA:
            if (status == 200 && strlen(a->hdr_captcha) == 4) {
                snprintf(a->captcha, sizeof(a->captcha), "%s", a->hdr_captcha);
                ok = 1;
            }
            break;
        case ST_SMS:
            ok = status == 200 && json_ok(j);
            break;
        case ST_SMS_READ:
            ok = status == 200 && find_code(a->code, j);
            if (!ok && status == 200 && ++a->sms_tries < SMS_READ_TRIES) {
                json_decref(j);
                return 2; /* ask again */
            }
            break;
        case ST_VERIFY:
            ok = status == 200 && json_ok(j) && json_str_is(j, "next", "face");
            break;
        case ST_FACE_START:
            if (status == 200 && json_ok(j) && (s = json_str(j, "redirect")) &&
                (s = strstr(s, "token="))) {
                snprintf(a->token, sizeof(a->token), "%.*s", (int)strcspn(s + 6, "&#"), s + 6);
                ok = 1;
            }
            break;
        case ST_FACE_CAPTURE:
            if (status == 200 && json_str_is(j, "result", "pass") &&
                (s = json_str(j, "redirect"))) {
                a->back_url = strdup(s);
                ok = a->back_url != NULL;
            }
            break;
        case ST_FACE_RETURN:
            ok = status == 303 && strstr(a->location, "/cnca/face-done.html") != NULL;
            break;
        case ST_CONFIRM:
            ok = json_str_is(j, "next", "signature") && take_csrf(a, status, j);
            break;
        case ST_SIGNATURE:
            ok = status == 200 && json_ok(j);
            break;
        case ST_ME:
            ok = status == 200 && json_ok(j) && json_is_object(json_object_get(j, "certificate"));
            break;
        default:
            break;
    }
    json_decref(j);
    if (!ok) {
        fail_note(d, a, status, "unexpected answer");
    }
    return ok;
}

/* Checks a hammer-mode answer. */
static int hammer_check(driver_t *d, applicant_t *a, long status)
{
    json_t *j = NULL;
    int ok = 0;

    if (a->step != H_CAPTCHA) {
        j = json_loadb(a->body.data ? a->body.data : "", a->body.len, 0, NULL);
    }
    switch (a->step) {
        case H_SESSION:
            ok = take_csrf(a, status, j);
            break;
        case H_APPLY_BAD:
            ok = status == 400 && json_str_is(j, "error", "invalid_input");
            break;
        case H_CAPTCHA:
            ok = status == 200 && strlen(a->hdr_captcha) == 4;
            break;
        default:
            break;
    }
    json_decref(j);
    if (!ok) {
        fail_note(d, a, status, "unexpected answer");
    }
    return ok;
}

static void on_done(driver_t *d, applicant_t *a, CURLcode cc, double deadline, int hammer)
{
    long status = 0;
    double t = now_ms();
    int go;

    a->busy = 0;
    d->done_requests++;
    curl_multi_remove_handle(d->multi, a->easy);
    if (cc != CURLE_OK) {
        fail_note(d, a, 0, "transfer failed: %s", curl_easy_strerror(cc));
        go = 0;
    } else {
        curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
        go = hammer ? hammer_check(d, a, status) : enroll_check(d, a, status);
    }
    if (go) {
        series_add(&d->lat[a->step], t - a->t_step);
    }
    if (hammer) {
        if (d->max_requests && d->started_requests >= d->max_requests) {
            return;
        }
        /* a slot without a session (first request, or a failure) starts over */
        a->step = (!go && a->step == H_SESSION) || !a->csrf[0]
                      ? H_SESSION
                      : (step_t)(H_SESSION + (a->step - H_SESSION + 1) % 3);
        submit(d, a);
        return;
    }
    if (go == 2) {
        submit(d, a); /* the SMS is not there yet: read again */
        return;
    }
    if (go && a->step == ST_ME) {
        d->completed++;
        series_add(&d->flow, t - a->t_flow);
    }
    if (go && a->step != ST_ME) {
        a->step++;
        submit(d, a);
        return;
    }
    if (t < deadline) {
        start_applicant(d, a);
    }
}

/* Runs until every applicant is idle, or until hard_stop (then what is in
 * flight is abandoned and counted as failed: a stuck server must not hold
 * up the bench). */
static int run(driver_t *d, double deadline, double hard_stop, int hammer)
{
    int running = 1, i, left;
    CURLMsg *msg;

    for (i = 0; i < d->concurrency; ++i) {
        if (hammer) {
            d->apps[i].k = i; /* names the connection in failure lines */
            d->apps[i].step = H_SESSION;
            submit(d, &d->apps[i]);
        } else {
            start_applicant(d, &d->apps[i]);
        }
    }
    while (running) {
        if (curl_multi_perform(d->multi, &running) != CURLM_OK) {
            fprintf(stderr, "enroll_driver: curl_multi_perform failed\n");
            return -1;
        }
        while ((msg = curl_multi_info_read(d->multi, &left))) {
            applicant_t *a = NULL;
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&a);
            on_done(d, a, msg->data.result, deadline, hammer);
        }
        /* handles added in on_done count as running from the next perform */
        for (i = 0, running = 0; i < d->concurrency; ++i) {
            running |= d->apps[i].busy;
        }
        if (running && now_ms() > hard_stop) {
            for (i = 0; i < d->concurrency; ++i) {
                applicant_t *a = &d->apps[i];
                if (a->busy) {
                    a->busy = 0;
                    curl_multi_remove_handle(d->multi, a->easy);
                    fail_note(d, a, 0, "abandoned: no answer before the run's time limit");
                }
            }
            fprintf(stderr, "enroll_driver: stopped at the time limit\n");
            break;
        }
        if (running) {
            curl_multi_poll(d->multi, NULL, 0, 100, NULL);
        }
    }
    return 0;
}

static void print_table(driver_t *d, step_t from, step_t to)
{
    int s;

    printf("| step | requests | p50 ms | p99 ms | failed |\n");
    printf("| --- | ---: | ---: | ---: | ---: |\n");
    for (s = from; s < (int)to; ++s) {
        series_t *l = &d->lat[s];
        qsort(l->v, l->n, sizeof(double), cmp_double);
        printf("| %s | %zu | %.1f | %.1f | %ld |\n", step_names[s], l->n, percentile(l, 50),
               percentile(l, 99), d->failed_at[s]);
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: enroll_driver enroll BASE CONCURRENCY SECONDS [FIRST [WxH]]\n"
                    "       enroll_driver hammer BASE CONCURRENCY REQUESTS\n"
                    "       enroll_driver cookie BASE\n");
    return 2;
}

/* GET /session; prints "NAME=VALUE" of the cookie it set. */
static int print_cookie(const char *base)
{
    CURL *e = curl_easy_init();
    struct curl_slist *cookies = NULL, *c;
    buf_t body = {NULL, 0, 0};
    char url[2048];
    long status = 0;
    int rc = 1;

    if (!e) {
        return 2;
    }
    snprintf(url, sizeof(url), "%s/cnca/api/session", base);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    if (curl_easy_perform(e) == CURLE_OK &&
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200 &&
        curl_easy_getinfo(e, CURLINFO_COOKIELIST, &cookies) == CURLE_OK) {
        /* Netscape format: domain, flag, path, secure, expiry, name, value */
        for (c = cookies; c && rc; c = c->next) {
            const char *f = c->data;
            int tab;
            for (tab = 0; tab < 5 && (f = strchr(f, '\t')); ++tab) {
                ++f;
            }
            if (f && strchr(f, '\t')) {
                printf("%.*s=%s\n", (int)(strchr(f, '\t') - f), f, strchr(f, '\t') + 1);
                rc = 0;
            }
        }
    }
    curl_slist_free_all(cookies);
    curl_easy_cleanup(e);
    free(body.data);
    return rc;
}

int main(int argc, char **argv)
{
    driver_t d;
    int hammer, i, sig_w = 800, sig_h = 320;
    double t0, t1, secs, deadline = 0, cpu;
    struct rusage ru;

    if (argc == 3 && !strcmp(argv[1], "cookie")) {
        return print_cookie(argv[2]);
    }
    if (argc < 5) {
        return usage();
    }
    hammer = !strcmp(argv[1], "hammer");
    if (!hammer && strcmp(argv[1], "enroll")) {
        return usage();
    }
    memset(&d, 0, sizeof(d));
    d.base = argv[2];
    d.concurrency = atoi(argv[3]);
    if (d.concurrency < 1 || d.concurrency > MAX_CONCURRENCY) {
        return usage();
    }
    if (hammer) {
        d.max_requests = atol(argv[4]);
    } else {
        d.next_k = argc > 5 ? atol(argv[5]) : 0;
        if (argc > 6 && (sscanf(argv[6], "%dx%d", &sig_w, &sig_h) != 2 || sig_w < 16 ||
                         sig_h < 16 || sig_w > 4000 || sig_h > 4000)) {
            return usage();
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(d.multi = curl_multi_init())) {
        fprintf(stderr, "enroll_driver: libcurl did not initialise\n");
        return 2;
    }
    curl_multi_setopt(d.multi, CURLMOPT_MAXCONNECTS, (long)(2 * d.concurrency));
    d.face_png = make_png(128, 128);
    d.sig_png = make_signature_png(sig_w, sig_h);
    if (!d.face_png.data || !d.sig_png.data) {
        fprintf(stderr, "enroll_driver: libgd could not make the test images\n");
        return 2;
    }
    d.apps = calloc((size_t)d.concurrency, sizeof(*d.apps));
    for (i = 0; d.apps && i < d.concurrency; ++i) {
        applicant_t *a = &d.apps[i];
        if (!(a->easy = curl_easy_init())) {
            return 2;
        }
        curl_easy_setopt(a->easy, CURLOPT_PRIVATE, (char *)a);
        curl_easy_setopt(a->easy, CURLOPT_COOKIEFILE, ""); /* own cookie engine */
        curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(a->easy, CURLOPT_WRITEDATA, &a->body);
        curl_easy_setopt(a->easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(a->easy, CURLOPT_HEADERDATA, a);
        curl_easy_setopt(a->easy, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(a->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(a->easy, CURLOPT_PROXY, "");
        curl_easy_setopt(a->easy, CURLOPT_TIMEOUT, (long)REQUEST_TIMEOUT);
        curl_easy_setopt(a->easy, CURLOPT_USERAGENT,
                         "Mozilla/5.0 (iPhone) MicroMessenger/8.0 "
                         "cnca-bench");
    }
    if (!d.apps) {
        return 2;
    }

    t0 = now_ms();
    if (!hammer) {
        deadline = t0 + 1000.0 * atof(argv[4]);
    }
    if (run(&d, deadline, hammer ? t0 + 1000.0 * HAMMER_SECONDS : deadline + 1000.0 * DRAIN_SECONDS,
            hammer) != 0) {
        return 2;
    }
    t1 = now_ms();
    getrusage(RUSAGE_SELF, &ru);
    cpu =
        ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;

    secs = (t1 - t0) / 1000.0;
    if (hammer) {
        print_table(&d, H_SESSION, N_KINDS);
        printf("\n%ld requests in %.1f s (%.0f req/s), %d connections, failures: %ld\n",
               d.done_requests, secs, d.done_requests / secs, d.concurrency, d.failures);
        printf("RESULT mode=hammer requests=%ld seconds=%.2f failures=%ld cpu=%.2f\n",
               d.done_requests, secs, d.failures, cpu);
    } else {
        print_table(&d, ST_SESSION, N_STEPS);
        qsort(d.flow.v, d.flow.n, sizeof(double), cmp_double);
        printf("| whole flow (12 requests) | %ld | %.1f | %.1f | %ld |\n", d.completed,
               percentile(&d.flow, 50), percentile(&d.flow, 99), d.failures);
        printf("\n%ld flows completed in %.1f s: %.1f enrollments/s; %d concurrent applicants; "
               "failures: %ld; signature PNG %dx%d, %d bytes\n",
               d.completed, secs, d.completed / secs, d.concurrency, d.failures, sig_w, sig_h,
               d.sig_png.len);
        printf("RESULT mode=enroll flows=%ld seconds=%.2f rate=%.1f failures=%ld next=%ld "
               "cpu=%.2f\n",
               d.completed, secs, d.completed / secs, d.failures, d.next_k, cpu);
    }
    for (i = 0; i < d.concurrency; ++i) {
        curl_easy_cleanup(d.apps[i].easy);
        curl_slist_free_all(d.apps[i].headers);
        free(d.apps[i].req_body);
        free(d.apps[i].body.data);
        free(d.apps[i].back_url);
    }
    free(d.apps);
    for (i = 0; i < N_KINDS; ++i) {
        free(d.lat[i].v);
    }
    free(d.flow.v);
    gdFree(d.face_png.data);
    gdFree(d.sig_png.data);
    curl_multi_cleanup(d.multi);
    curl_global_cleanup();
    return d.failures ? 1 : 0;
}
