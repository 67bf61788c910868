/* Unit tests for cnca_captcha.c: the answer, the picture (a 120x44 PNG that
 * differs every time, whose ink follows the digits), the TrueType font and
 * its fallback, speed, and drawing from several threads at once. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "tap.h"
#include "cnca_captcha.h"
#include "cnca_image.h"
#include "cnca_image_gd.h"
#include "cnca_log.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

static void log_sink(void *baton, const char *file, int line, cnca_log_level_t level,
                     apr_status_t rv, const char *msg)
{
    (void)baton, (void)file, (void)line, (void)level, (void)rv, (void)msg;
}

static gdImagePtr draw(apr_pool_t *p, const char *answer)
{
    const void *png = NULL;
    apr_size_t len = 0;

    if (cnca_captcha_png(&png, &len, p, answer) != APR_SUCCESS || !png) {
        return NULL;
    }
    return gdImageCreateFromPngPtr((int)len, (void *)png);
}

/* Pixels clearly darker than the light background. */
static long dark_pixels(gdImagePtr im)
{
    long n = 0;
    int x, y;

    for (y = 0; y < gdImageSY(im); ++y) {
        for (x = 0; x < gdImageSX(im); ++x) {
            int c = gdImageGetTrueColorPixel(im, x, y);
            n += gdTrueColorGetRed(c) + gdTrueColorGetGreen(c) + gdTrueColorGetBlue(c) < 3 * 150;
        }
    }
    return n;
}

static void test_answer(void)
{
    apr_pool_t *p = tap_pool();
    const char *a = NULL, *first = NULL;
    int i, bad = 0, same = 0;

    ok(cnca_captcha_answer(&a, p) == APR_SUCCESS && a, "an answer");
    ok(a && strlen(a) == 4 && strspn(a, "0123456789") == 4, "  four digits");
    first = a;
    for (i = 0; i < 200; ++i) {
        if (cnca_captcha_answer(&a, p) != APR_SUCCESS || strlen(a) != 4 ||
            strspn(a, "0123456789") != 4) {
            ++bad;
        }
        same += !strcmp(a, first);
    }
    is_int(bad, 0, "200 more answers: all four digits");
    ok(same < 5, "  and not the same one again and again");
}

static void test_picture(void)
{
    apr_pool_t *p = tap_pool();
    const void *png1 = NULL, *png2 = NULL;
    apr_size_t len1 = 0, len2 = 0;
    gdImagePtr a, b;
    long differ = 0;
    int x, y;

    ok(cnca_captcha_png(&png1, &len1, p, "6160") == APR_SUCCESS && len1 > 8 &&
           !memcmp(png1, "\x89PNG\r\n\x1a\n", 8),
       "captcha is a PNG");
    ok(cnca_captcha_png(&png2, &len2, p, "6160") == APR_SUCCESS, "same answer again");
    ok(len1 != len2 || memcmp(png1, png2, len1), "  a different file");
    a = gdImageCreateFromPngPtr((int)len1, (void *)png1);
    b = gdImageCreateFromPngPtr((int)len2, (void *)png2);
    ok(a && b, "both decode");
    if (a && b) {
        ok(gdImageSX(a) == CNCA_CAPTCHA_WIDTH && gdImageSY(a) == CNCA_CAPTCHA_HEIGHT &&
               gdImageSX(a) == 120 && gdImageSY(a) == 44,
           "  120x44");
        for (y = 0; y < 44; ++y) {
            for (x = 0; x < 120; ++x) {
                differ += gdImageGetTrueColorPixel(a, x, y) != gdImageGetTrueColorPixel(b, x, y);
            }
        }
        ok(differ > 120 * 44 / 2, "  most pixels differ between two pictures of one answer");
    }
    if (a) {
        gdImageDestroy(a);
    }
    if (b) {
        gdImageDestroy(b);
    }
}

static void test_bad_answers(void)
{
    apr_pool_t *p = tap_pool();
    const void *png = (const void *)1;
    apr_size_t len = 1;

    is_int(cnca_captcha_png(&png, &len, p, NULL), APR_EINVAL, "NULL answer refused");
    ok(png == NULL && len == 0, "  no picture");
    is_int(cnca_captcha_png(&png, &len, p, ""), APR_EINVAL, "empty answer refused");
    is_int(cnca_captcha_png(&png, &len, p, "12a4"), APR_EINVAL, "a letter refused");
    is_int(cnca_captcha_png(&png, &len, p, "123456789"), APR_EINVAL, "9 digits refused");
    is_int(cnca_captcha_png(&png, &len, p, "12345678"), APR_SUCCESS, "8 digits drawn");
}

/* The digits are what is drawn: "8888" has much more ink than "1111". */
static void ink_follows_digits(const char *what)
{
    apr_pool_t *p = tap_pool();
    long ones = 0, eights = 0;
    int i, bad = 0;

    for (i = 0; i < 20; ++i) {
        gdImagePtr one = draw(p, "1111"), eight = draw(p, "8888");
        bad += !one || !eight;
        if (one) {
            ones += dark_pixels(one);
            gdImageDestroy(one);
        }
        if (eight) {
            eights += dark_pixels(eight);
            gdImageDestroy(eight);
        }
    }
    is_int(bad, 0, apr_pstrcat(p, what, ": 40 pictures drawn", NULL));
    /* about 1.3 times as much; with no digits drawn both would be equal */
    ok(eights > ones * 23 / 20,
       apr_pstrcat(p, what, ": \"8888\" has clearly more ink than \"1111\"", NULL));
    if (eights <= ones * 23 / 20) {
        printf("#   dark pixels: 1111 %ld, 8888 %ld\n", ones, eights);
    }
}

static void test_fonts(void)
{
    apr_status_t rv = cnca_captcha_set_font(NULL);

    if (rv == APR_SUCCESS) {
        ok(cnca_captcha_uses_truetype(), "default TrueType font (fonts-dejavu-core) loads");
        ink_follows_digits("TrueType");
    } else {
        ok(1, "# SKIP " CNCA_CAPTCHA_FONT " missing (install fonts-dejavu-core)");
    }
    is_int(cnca_captcha_set_font("/nonexistent/font.ttf"), APR_ENOENT, "a missing font: ENOENT");
    ok(!cnca_captcha_uses_truetype(), "  built-in font used instead");
    ink_follows_digits("built-in font");
    cnca_captcha_set_font(NULL);
}

/* Timed in CPU time (clock()), so other work on the machine does not count. */
static void test_speed(void)
{
    apr_pool_t *p = tap_pool();
    int n = RUNNING_ON_VALGRIND ? 20 : 1000, i, bad = 0;
    apr_time_t start = apr_time_now(), took;
    clock_t cpu = clock();

    for (i = 0; i < n; ++i) {
        apr_pool_t *q;
        const char *answer;
        const void *png;
        apr_size_t len;
        apr_pool_create(&q, p);
        if (cnca_captcha_answer(&answer, q) != APR_SUCCESS ||
            cnca_captcha_png(&png, &len, q, answer) != APR_SUCCESS || len < 100) {
            ++bad;
        }
        apr_pool_destroy(q);
    }
    cpu = clock() - cpu;
    took = apr_time_now() - start;
    is_int(bad, 0, apr_psprintf(p, "%d captchas drawn", n));
    printf("# %d captchas: %.2f ms CPU each, %.2f ms wall each\n", n,
           (double)cpu * 1000.0 / CLOCKS_PER_SEC / n, (double)took / 1000.0 / n);
    if (RUNNING_ON_VALGRIND) {
        ok(1, "# SKIP timing under valgrind");
    } else {
        ok((double)cpu / CLOCKS_PER_SEC < n * 0.002, "  under 2 ms of CPU each");
    }
}

typedef struct {
    apr_pool_t *pool;
    int rounds, bad;
} worker_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    worker_t *w = data;
    int i;

    (void)t;
    for (i = 0; i < w->rounds; ++i) {
        gdImagePtr im;
        apr_pool_t *q;
        apr_pool_create(&q, w->pool);
        im = draw(q, "2580");
        if (!im || gdImageSX(im) != 120 || gdImageSY(im) != 44) {
            ++w->bad;
        }
        if (im) {
            gdImageDestroy(im);
        }
        apr_pool_destroy(q);
    }
    return NULL;
}

static void test_threads(void)
{
    apr_pool_t *p = tap_pool();
    apr_thread_t *th[4];
    worker_t wk[4];
    int i, bad = 0, started = 0;

    for (i = 0; i < 4; ++i) {
        apr_pool_create_unmanaged(&wk[i].pool);
        wk[i].rounds = RUNNING_ON_VALGRIND ? 5 : 100;
        wk[i].bad = 0;
        started += apr_thread_create(&th[i], NULL, worker, &wk[i], p) == APR_SUCCESS;
    }
    is_int(started, 4, "4 threads started");
    for (i = 0; i < started; ++i) {
        apr_status_t trv;
        apr_thread_join(&trv, th[i]);
        bad += wk[i].bad;
    }
    for (i = 0; i < 4; ++i) {
        apr_pool_destroy(wk[i].pool);
    }
    is_int(bad, 0, "captchas drawn by 4 threads at once all decode");
}

int main(void)
{
    cnca_log_set_sink(log_sink, NULL);
    cnca_image_init();

    test_answer();
    test_picture();
    test_bad_answers();
    test_fonts();
    test_speed();
    test_threads();

    cnca_image_terminate();
    return tap_done();
}
