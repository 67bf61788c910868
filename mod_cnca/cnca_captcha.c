/* The picture captcha: answer and image. Every random choice (colours,
 * placement, turn, size, wave, noise) comes from the CSPRNG, so no picture
 * tells anything about the next. */
#include <pthread.h>
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
/* zlib level: a noisy picture hardly compresses; speed matters more */
#define CAPTCHA_PNG_LEVEL 1
#define PI 3.14159265358979323846

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

/* Digit shapes as coverage masks (0..255), made once at start-up: from the
 * TrueType font with FreeType's anti-aliasing, or from libgd's built-in
 * giant font (9x15 bits). Drawing a captcha then only samples these, turned
 * and scaled, so no request runs FreeType (whose hinting of each new size
 * costs far more than the whole picture) and the masks, read-only after
 * start-up, are shared by all threads. */
#define GLYPH_PT 23.0 /* the TrueType size the masks are made at */
#define GLYPH_MAX 64  /* a mask's largest side */
#define GLYPH_CANVAS 96

typedef struct {
    int w, h;
    unsigned char cov[GLYPH_MAX * GLYPH_MAX];
} glyph_t;

typedef struct {
    glyph_t digit[10];
    double scale; /* mask pixels to picture pixels at the nominal size */
    int truetype;
} glyph_set_t;

static glyph_set_t glyphs;
static int glyphs_ready;
static pthread_once_t glyphs_once = PTHREAD_ONCE_INIT;

/* Crops the coverage in the red channel of a white-on-black canvas. */
static apr_status_t glyph_from_canvas(glyph_t *gl, gdImagePtr im)
{
    int x, y, x0 = GLYPH_CANVAS, y0 = GLYPH_CANVAS, x1 = -1, y1 = -1;

    for (y = 0; y < GLYPH_CANVAS; ++y) {
        for (x = 0; x < GLYPH_CANVAS; ++x) {
            if (gdTrueColorGetRed(im->tpixels[y][x])) {
                x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
            }
        }
    }
    if (x1 < 0 || x0 == 0 || y0 == 0 || x1 == GLYPH_CANVAS - 1 || y1 == GLYPH_CANVAS - 1 ||
        x1 - x0 + 1 > GLYPH_MAX || y1 - y0 + 1 > GLYPH_MAX) {
        return APR_EGENERAL; /* empty, or not wholly on the canvas */
    }
    gl->w = x1 - x0 + 1;
    gl->h = y1 - y0 + 1;
    for (y = 0; y < gl->h; ++y) {
        for (x = 0; x < gl->w; ++x) {
            gl->cov[y * gl->w + x] = (unsigned char)gdTrueColorGetRed(im->tpixels[y0 + y][x0 + x]);
        }
    }
    return APR_SUCCESS;
}

/* The ten digits from a TrueType font; on failure *perr says why. */
static apr_status_t glyphs_truetype(glyph_set_t *set, const char *path, const char **perr)
{
    gdImagePtr im = gdImageCreateTrueColor(GLYPH_CANVAS, GLYPH_CANVAS);
    apr_status_t rv = APR_SUCCESS;
    int d, brect[8];

    *perr = NULL;
    if (!im) {
        *perr = "out of memory";
        return APR_ENOMEM;
    }
    for (d = 0; d < 10 && rv == APR_SUCCESS; ++d) {
        char s[2] = {(char)('0' + d), '\0'};
        gdImageFilledRectangle(im, 0, 0, GLYPH_CANVAS - 1, GLYPH_CANVAS - 1, gdTrueColor(0, 0, 0));
        *perr = gdImageStringFT(im, brect, gdTrueColor(255, 255, 255), path, GLYPH_PT, 0,
                                GLYPH_CANVAS / 4, GLYPH_CANVAS * 3 / 4, s);
        if (*perr) {
            rv = APR_ENOENT;
        } else if ((rv = glyph_from_canvas(&set->digit[d], im)) != APR_SUCCESS) {
            *perr = "a digit does not fit the glyph canvas";
        }
    }
    gdImageDestroy(im);
    set->scale = 1.0;
    set->truetype = 1;
    return rv;
}

/* The ten digits from libgd's built-in giant font, scaled up when drawn. */
static void glyphs_builtin(glyph_set_t *set)
{
    gdFontPtr f = gdFontGetGiant();
    int d, x, y;

    for (d = 0; d < 10; ++d) {
        glyph_t *gl = &set->digit[d];
        const char *bits = f->data + (apr_size_t)('0' + d - f->offset) * f->w * f->h;
        gl->w = f->w;
        gl->h = f->h;
        for (y = 0; y < f->h; ++y) {
            for (x = 0; x < f->w; ++x) {
                gl->cov[y * f->w + x] = bits[y * f->w + x] ? 255 : 0;
            }
        }
    }
    set->scale = GLYPH_PT / 10.5; /* about as tall as the TrueType digits */
    set->truetype = 0;
}

static void glyphs_default(void)
{
    if (!__atomic_load_n(&glyphs_ready, __ATOMIC_ACQUIRE)) {
        cnca_captcha_set_font(NULL);
    }
}

/* A glyph scaled by scale and turned by angle about its centre, drawn
 * centred on (cx, cy) with bilinear coverage. */
static void draw_glyph(gdImagePtr im, const glyph_t *gl, double cx, double cy, double scale,
                       double angle, int colour)
{
    double ca = cosine(angle), sa = sine(angle);
    int reach = (int)(scale * (gl->w > gl->h ? gl->w : gl->h) * 0.75) + 2, x, y;

    for (y = (int)cy - reach; y <= (int)cy + reach; ++y) {
        for (x = (int)cx - reach; x <= (int)cx + reach; ++x) {
            double dx = x - cx, dy = y - cy, u, v, fu, fv, cov = 0;
            int u0, v0, i, j;
            if (x < 0 || y < 0 || x >= W || y >= H) {
                continue;
            }
            u = (ca * dx - sa * dy) / scale + gl->w / 2.0 - 0.5;
            v = (sa * dx + ca * dy) / scale + gl->h / 2.0 - 0.5;
            u0 = ifloor(u);
            v0 = ifloor(v);
            if (u0 < -1 || v0 < -1 || u0 >= gl->w || v0 >= gl->h) {
                continue;
            }
            fu = u - u0;
            fv = v - v0;
            for (j = 0; j <= 1; ++j) {
                for (i = 0; i <= 1; ++i) {
                    int bu = u0 + i, bv = v0 + j;
                    if (bu >= 0 && bv >= 0 && bu < gl->w && bv < gl->h) {
                        cov += (i ? fu : 1 - fu) * (j ? fv : 1 - fv) * gl->cov[bv * gl->w + bu];
                    }
                }
            }
            if (cov > 0) {
                im->tpixels[y][x] = mix(im->tpixels[y][x], colour, cov / 255.0);
            }
        }
    }
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
    pthread_once(&glyphs_once, glyphs_default);
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
    noise_curve(im, &g,
                hsv(hue + rnd_real(&g, -50, 50), rnd_real(&g, 0.3, 0.8), rnd_real(&g, 0.35, 0.7)),
                rnd_int(&g, 1, 2));

    slot = (W - 16.0) / n;
    for (i = 0; i < n; ++i) {
        double scale = glyphs.scale * rnd_real(&g, 0.9, 1.12) * (n > 4 ? 4.0 / n : 1.0);
        double cx = 8 + slot * (i + 0.5) + rnd_real(&g, -2.5, 2.5);
        double cy = H / 2.0 + rnd_real(&g, -3.5, 3.5);
        draw_glyph(im, &glyphs.digit[answer[i] - '0'], cx, cy, scale, rnd_real(&g, -0.35, 0.35),
                   ink_colour(&g, hue));
    }
    noise_curve(im, &g, ink_colour(&g, hue), 1);
    wave(out, im, &g);
    noise_dots(out, &g, hue);

    if (g.rv != APR_SUCCESS) {
        rv = g.rv; /* the CSPRNG failed (already logged): no predictable picture */
        goto leave;
    }
    gdImageSaveAlpha(out, 0);
    rv = cnca_image_encode_png(ppng, plen, p, out, CAPTCHA_PNG_LEVEL);
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
    const char *err = "path too long";
    apr_status_t rv = APR_ENOENT;

    if (!path) {
        path = CNCA_CAPTCHA_FONT;
    }
    if (strlen(path) < 1024) {
        rv = glyphs_truetype(&glyphs, path, &err);
    }
    if (rv != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_WARNING, rv,
                        "CNCA00420: captcha font %s unusable (%s); using the built-in font", path,
                        err ? err : "?");
        glyphs_builtin(&glyphs);
        rv = APR_ENOENT;
    }
    __atomic_store_n(&glyphs_ready, 1, __ATOMIC_RELEASE);
    return rv;
}

int cnca_captcha_uses_truetype(void)
{
    pthread_once(&glyphs_once, glyphs_default);
    return glyphs.truetype;
}
