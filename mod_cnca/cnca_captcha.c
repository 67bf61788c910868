/* The picture captcha: answer and image. Every random choice (colours,
 * placement, turn, size, wave, noise) comes from the CSPRNG, so no picture
 * tells anything about the next. */
#include <string.h>

#include <apr_strings.h>

#include <gdfontg.h>

#include "cnca_captcha.h"
#include "cnca_crypto.h"
#include "cnca_image_gd.h"
#include "cnca_log.h"

#define W CNCA_CAPTCHA_WIDTH
#define H CNCA_CAPTCHA_HEIGHT
#define MAX_DIGITS 8
#define PI 3.14159265358979323846

static char font_path[1024] = CNCA_CAPTCHA_FONT;
/* 0 untried, 1 loads, -1 does not: the built-in font is used */
static int font_state;

/* Random numbers drawn from a buffer the CSPRNG fills. */
typedef struct {
    unsigned char buf[256];
    apr_size_t pos;
    apr_status_t rv;
} rng_t;

static unsigned rnd16(rng_t *g)
{
    unsigned v;

    if (g->pos + 2 > sizeof(g->buf)) {
        apr_status_t rv = cnca_random(g->buf, sizeof(g->buf));
        if (rv != APR_SUCCESS) {
            g->rv = rv;
        }
        g->pos = 0;
    }
    v = ((unsigned)g->buf[g->pos] << 8) | g->buf[g->pos + 1];
    g->pos += 2;
    return v;
}

static int rnd_int(rng_t *g, int lo, int hi)
{
    return lo + (int)(rnd16(g) % (unsigned)(hi - lo + 1));
}

static double rnd_real(rng_t *g, double lo, double hi)
{
    return lo + (hi - lo) * rnd16(g) / 65535.0;
}

/* Sine for the waves and turns (libm is not linked; the error, below 1e-5,
 * is far under a pixel): reduced to [-pi/2, pi/2], then Taylor to x^9. */
static double sine(double x)
{
    double x2;

    x -= 2 * PI * (double)(long)(x / (2 * PI));
    x = x > PI ? x - 2 * PI : x < -PI ? x + 2 * PI : x;
    x = x > PI / 2 ? PI - x : x < -PI / 2 ? -PI - x : x;
    x2 = x * x;
    return x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72))));
}

static double cosine(double x)
{
    return sine(x + PI / 2);
}

static int ifloor(double x)
{
    int i = (int)x;
    return x < i ? i - 1 : i;
}

/* hue in degrees (any), saturation and value 0..1 */
static int hsv(double hue, double s, double v)
{
    double h, f, pp, q, t, r, g, b;
    int i;

    hue -= 360.0 * ifloor(hue / 360.0);
    h = hue / 60.0;
    i = (int)h;
    i = i > 5 ? 5 : i;
    f = h - i;
    pp = v * (1 - s);
    q = v * (1 - s * f);
    t = v * (1 - s * (1 - f));
    switch (i) {
        case 0:
            r = v, g = t, b = pp;
            break;
        case 1:
            r = q, g = v, b = pp;
            break;
        case 2:
            r = pp, g = v, b = t;
            break;
        case 3:
            r = pp, g = q, b = v;
            break;
        case 4:
            r = t, g = pp, b = v;
            break;
        default:
            r = v, g = pp, b = q;
            break;
    }
    return gdTrueColor((int)(r * 255 + 0.5), (int)(g * 255 + 0.5), (int)(b * 255 + 0.5));
}

static int mix(int c0, int c1, double t)
{
    return gdTrueColor((int)(gdTrueColorGetRed(c0) * (1 - t) + gdTrueColorGetRed(c1) * t + 0.5),
                       (int)(gdTrueColorGetGreen(c0) * (1 - t) + gdTrueColorGetGreen(c1) * t + 0.5),
                       (int)(gdTrueColorGetBlue(c0) * (1 - t) + gdTrueColorGetBlue(c1) * t + 0.5));
}

/* A dark, saturated colour near the picture's hue: digits, lines, dots. */
static int ink_colour(rng_t *g, double hue)
{
    return hsv(hue + rnd_real(g, -50, 50), rnd_real(g, 0.45, 0.95), rnd_real(g, 0.2, 0.55));
}

static void background(gdImagePtr im, rng_t *g, double hue)
{
    int c0 = hsv(hue, rnd_real(g, 0.03, 0.12), rnd_real(g, 0.94, 0.99));
    int c1 = hsv(hue + rnd_real(g, -40, 40), rnd_real(g, 0.04, 0.15), rnd_real(g, 0.9, 0.98));
    int x, y;

    for (x = 0; x < W; ++x) {
        int c = mix(c0, c1, (double)x / (W - 1));
        for (y = 0; y < H; ++y) {
            im->tpixels[y][x] = c;
        }
    }
}

/* A wavy line across the picture. */
static void noise_curve(gdImagePtr im, rng_t *g, int colour, int thickness)
{
    double y0 = rnd_real(g, H * 0.25, H * 0.75), amp = rnd_real(g, 3, H * 0.3);
    double period = rnd_real(g, W * 0.5, W * 1.5), phase = rnd_real(g, 0, 2 * PI);
    double slope = rnd_real(g, -0.15, 0.15);
    int x0 = rnd_int(g, 0, W / 5), x1 = rnd_int(g, W * 4 / 5, W), px = -1, py = 0, x;

    gdImageSetThickness(im, thickness);
    for (x = x0; x <= x1; x += 3) {
        int y = (int)(y0 + slope * (x - W / 2) + amp * sine(2 * PI * x / period + phase) + 0.5);
        if (px >= 0) {
            gdImageLine(im, px, py, x, y, colour);
        }
        px = x;
        py = y;
    }
    gdImageSetThickness(im, 1);
}

/* One character of libgd's built-in giant font (9x15), scaled, turned by
 * angle about (cx, cy), with bilinear coverage: the fallback when there is
 * no TrueType font. */
static void builtin_char(gdImagePtr im, int ch, double cx, double cy, double scale, double angle,
                         int colour)
{
    gdFontPtr f = gdFontGetGiant();
    const char *bits;
    double ca = cosine(angle), sa = sine(angle);
    int reach = (int)(scale * (f->w > f->h ? f->w : f->h) * 0.75) + 2, x, y;

    if (ch < f->offset || ch >= f->offset + f->nchars) {
        return;
    }
    bits = f->data + (apr_size_t)(ch - f->offset) * f->w * f->h;
    for (y = (int)cy - reach; y <= (int)cy + reach; ++y) {
        for (x = (int)cx - reach; x <= (int)cx + reach; ++x) {
            double dx = x - cx, dy = y - cy, u, v, fu, fv, cov = 0;
            int u0, v0, i, j;
            if (x < 0 || y < 0 || x >= W || y >= H) {
                continue;
            }
            u = (ca * dx - sa * dy) / scale + f->w / 2.0 - 0.5;
            v = (sa * dx + ca * dy) / scale + f->h / 2.0 - 0.5;
            u0 = ifloor(u);
            v0 = ifloor(v);
            fu = u - u0;
            fv = v - v0;
            for (j = 0; j <= 1; ++j) {
                for (i = 0; i <= 1; ++i) {
                    int bu = u0 + i, bv = v0 + j;
                    if (bu >= 0 && bv >= 0 && bu < f->w && bv < f->h && bits[bv * f->w + bu]) {
                        cov += (i ? fu : 1 - fu) * (j ? fv : 1 - fv);
                    }
                }
            }
            if (cov > 0) {
                im->tpixels[y][x] = mix(im->tpixels[y][x], colour, cov);
            }
        }
    }
}

static void font_failed(const char *err)
{
    if (__atomic_exchange_n(&font_state, -1, __ATOMIC_RELAXED) != -1) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_WARNING, APR_ENOENT,
                        "CNCA00420: captcha font %s unusable (%s); using the built-in font",
                        font_path, err);
    }
}

/* Digit ch centred on (cx, cy): TrueType when it works, else built-in. */
static void draw_digit(gdImagePtr im, int ch, double cx, double cy, double pt, double angle,
                       int colour)
{
    char s[2] = {(char)ch, '\0'};

    if (__atomic_load_n(&font_state, __ATOMIC_RELAXED) >= 0) {
        int brect[8];
        char *err = gdImageStringFT(NULL, brect, colour, font_path, pt, angle, 0, 0, s);
        if (!err) {
            /* the bounding box is about the pen position: move its centre */
            double bx = (brect[0] + brect[2] + brect[4] + brect[6]) / 4.0;
            double by = (brect[1] + brect[3] + brect[5] + brect[7]) / 4.0;
            err = gdImageStringFT(im, brect, colour, font_path, pt, angle, (int)(cx - bx + 0.5),
                                  (int)(cy - by + 0.5), s);
        }
        if (!err) {
            return;
        }
        font_failed(err);
    }
    builtin_char(im, ch, cx, cy, pt / 10.5, angle, colour);
}

/* Bilinear sample at a real position, clamped to the picture. */
static int sample(gdImagePtr im, double fx, double fy)
{
    int x0, y0, x1, y1, c00, c10, c01, c11;
    double tx, ty;

    fx = fx < 0 ? 0 : fx > W - 1 ? W - 1 : fx;
    fy = fy < 0 ? 0 : fy > H - 1 ? H - 1 : fy;
    x0 = (int)fx;
    y0 = (int)fy;
    x1 = x0 < W - 1 ? x0 + 1 : x0;
    y1 = y0 < H - 1 ? y0 + 1 : y0;
    tx = fx - x0;
    ty = fy - y0;
    c00 = im->tpixels[y0][x0];
    c10 = im->tpixels[y0][x1];
    c01 = im->tpixels[y1][x0];
    c11 = im->tpixels[y1][x1];
    return mix(mix(c00, c10, tx), mix(c01, c11, tx), ty);
}

/* dst = src seen through two sine waves: rows shifted sideways by a wave
 * down the picture, columns shifted up and down by a wave across it. */
static void wave(gdImagePtr dst, gdImagePtr src, rng_t *g)
{
    double ax = rnd_real(g, 1.0, 2.5), px = rnd_real(g, 25, 45), phx = rnd_real(g, 0, 2 * PI);
    double ay = rnd_real(g, 2.0, 4.0), py = rnd_real(g, 50, 90), phy = rnd_real(g, 0, 2 * PI);
    double shift_x[H], shift_y[W];
    int x, y;

    for (y = 0; y < H; ++y) {
        shift_x[y] = ax * sine(2 * PI * y / px + phx);
    }
    for (x = 0; x < W; ++x) {
        shift_y[x] = ay * sine(2 * PI * x / py + phy);
    }
    for (y = 0; y < H; ++y) {
        for (x = 0; x < W; ++x) {
            dst->tpixels[y][x] = sample(src, x + shift_x[y], y + shift_y[x]);
        }
    }
}

static void noise_dots(gdImagePtr im, rng_t *g, double hue)
{
    int n = rnd_int(g, 70, 100), i;

    for (i = 0; i < n; ++i) {
        int x = rnd_int(g, 0, W - 1), y = rnd_int(g, 0, H - 1);
        int c = rnd_int(g, 0, 2) ? ink_colour(g, hue)
                                 : hsv(hue + rnd_real(g, -60, 60), rnd_real(g, 0.2, 0.7),
                                       rnd_real(g, 0.4, 0.85));
        im->tpixels[y][x] = c;
        if (rnd_int(g, 0, 3) == 0 && x + 1 < W) {
            im->tpixels[y][x + 1] = c;
        }
    }
}

static int answer_ok(const char *answer)
{
    apr_size_t n = answer ? strlen(answer) : 0, i;

    if (n < 1 || n > MAX_DIGITS) {
        return 0;
    }
    for (i = 0; i < n; ++i) {
        if (answer[i] < '0' || answer[i] > '9') {
            return 0;
        }
    }
    return 1;
}

apr_status_t cnca_captcha_answer(const char **panswer, apr_pool_t *p)
{
    return cnca_random_digits(panswer, p, CNCA_CAPTCHA_DIGITS);
}

apr_status_t cnca_captcha_png(const void **ppng, apr_size_t *plen, apr_pool_t *p,
                              const char *answer)
{
    gdImagePtr im = NULL, out = NULL;
    rng_t g;
    double hue, slot;
    int n, i;
    apr_status_t rv;

    *ppng = NULL;
    *plen = 0;
    if (!answer_ok(answer)) {
        return APR_EINVAL;
    }
    memset(&g, 0, sizeof(g));
    g.pos = sizeof(g.buf); /* filled on first use */
    n = (int)strlen(answer);
    if (!(im = gdImageCreateTrueColor(W, H)) || !(out = gdImageCreateTrueColor(W, H))) {
        rv = APR_ENOMEM;
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv, "CNCA00421: out of memory for a captcha");
        goto leave;
    }
    hue = rnd_real(&g, 0, 360);
    background(im, &g, hue);
    noise_curve(im, &g, ink_colour(&g, hue), rnd_int(&g, 1, 2));

    slot = (W - 16.0) / n;
    for (i = 0; i < n; ++i) {
        double pt = rnd_real(&g, 20, 24) * (n > 4 ? 4.0 / n : 1.0);
        double cx = 8 + slot * (i + 0.5) + rnd_real(&g, -2.5, 2.5);
        double cy = H / 2.0 + rnd_real(&g, -3.5, 3.5);
        draw_digit(im, answer[i], cx, cy, pt, rnd_real(&g, -0.45, 0.45), ink_colour(&g, hue));
    }
    noise_curve(im, &g, ink_colour(&g, hue), 1);
    wave(out, im, &g);
    noise_dots(out, &g, hue);

    if (g.rv != APR_SUCCESS) {
        rv = g.rv; /* the CSPRNG failed (already logged): no predictable picture */
        goto leave;
    }
    gdImageSaveAlpha(out, 0);
    rv = cnca_image_encode_png(ppng, plen, p, out);
leave:
    if (out) {
        gdImageDestroy(out);
    }
    if (im) {
        gdImageDestroy(im);
    }
    return rv;
}

apr_status_t cnca_captcha_set_font(const char *path)
{
    int brect[8];
    char *err;

    if (!path) {
        path = CNCA_CAPTCHA_FONT;
    }
    if (strlen(path) >= sizeof(font_path)) {
        font_failed("path too long");
        return APR_ENOENT;
    }
    apr_cpystrn(font_path, path, sizeof(font_path));
    __atomic_store_n(&font_state, 0, __ATOMIC_RELAXED);
    if ((err = gdImageStringFT(NULL, brect, 0, font_path, 20, 0, 0, 0, "0")) != NULL) {
        font_failed(err);
        return APR_ENOENT;
    }
    __atomic_store_n(&font_state, 1, __ATOMIC_RELAXED);
    return APR_SUCCESS;
}

int cnca_captcha_uses_truetype(void)
{
    return __atomic_load_n(&font_state, __ATOMIC_RELAXED) >= 0;
}
