/* The signature picture: from what the applicant sent (canvas PNG, a file,
 * a photo) to the PNG with alpha that is kept, cropped to the ink. */
#include "cnca_image_gd.h"
#include "cnca_log.h"

/* Fewer ink pixels than this is an empty signature (a stray tap). */
#define MIN_INK_PIXELS 16

/* Alpha (0 opaque .. 127 transparent) at or below which a pixel counts
 * for the ink's bounding box: about an eighth opaque. */
#define INK_BOX_ALPHA 111

/* Upload: a border pixel is plain when nearly transparent or nearly white
 * (light and without colour); the border is plain when this share of its
 * pixels (in 1/1000) is. */
#define PLAIN_ALPHA 100
#define PLAIN_LIGHT 225
#define PLAIN_CHROMA 24
#define PLAIN_SHARE 980

static int min3(int a, int b, int c)
{
    int m = a < b ? a : b;
    return m < c ? m : c;
}

static int max3(int a, int b, int c)
{
    int m = a > b ? a : b;
    return m > c ? m : c;
}

/* Which pixels ink_box counts. */
typedef enum { INK_VISIBLE, INK_NOT_PLAIN } ink_kind_t;

static int plain(int c)
{
    int r = gdTrueColorGetRed(c), g = gdTrueColorGetGreen(c), b = gdTrueColorGetBlue(c);

    if (gdTrueColorGetAlpha(c) >= PLAIN_ALPHA) {
        return 1;
    }
    return min3(r, g, b) >= PLAIN_LIGHT && max3(r, g, b) - min3(r, g, b) <= PLAIN_CHROMA;
}

/* A bounding box and count of ink pixels, gathered a row at a time. */
typedef struct {
    int x0, y0, x1, y1;
    long count;
} ink_t;

static void ink_start(ink_t *ink, gdImagePtr im)
{
    ink->x0 = gdImageSX(im);
    ink->y0 = gdImageSY(im);
    ink->x1 = ink->y1 = -1;
    ink->count = 0;
}

/* The ink pixels of one row, met left to right: how many, the first and
 * the last. A local of the pixel loop (registers once inlined). */
typedef struct {
    int first, last;
    long n;
} ink_run_t;

static inline void run_start(ink_run_t *run, int w)
{
    run->first = w;
    run->last = -1;
    run->n = 0;
}

/* The pixel at x is ink. */
static inline void run_hit(ink_run_t *run, int x)
{
    run->first = x < run->first ? x : run->first;
    run->last = x;
    ++run->n;
}

/* Row y's ink added to the whole. */
static void ink_row(ink_t *ink, int y, const ink_run_t *run)
{
    if (run->n > 0) {
        ink->count += run->n;
        ink->x0 = run->first < ink->x0 ? run->first : ink->x0;
        ink->x1 = run->last > ink->x1 ? run->last : ink->x1;
        ink->y0 = y < ink->y0 ? y : ink->y0;
        ink->y1 = y;
    }
}

static void ink_end(const ink_t *ink, cnca_image_box_t *box, long *pcount)
{
    *pcount = ink->count;
    box->x = ink->count ? ink->x0 : 0;
    box->y = ink->count ? ink->y0 : 0;
    box->w = ink->count ? ink->x1 - ink->x0 + 1 : 0;
    box->h = ink->count ? ink->y1 - ink->y0 + 1 : 0;
}

/* Bounding box of the ink pixels (INK_VISIBLE: alpha at most
 * INK_BOX_ALPHA; INK_NOT_PLAIN: see plain()); their count in *pcount. */
static void ink_box(gdImagePtr im, cnca_image_box_t *box, long *pcount, ink_kind_t kind)
{
    int w = gdImageSX(im), h = gdImageSY(im), x, y;
    ink_t ink;
    ink_run_t run;

    ink_start(&ink, im);
    for (y = 0; y < h; ++y) {
        const int *row = im->tpixels[y];
        run_start(&run, w);
        for (x = 0; x < w; ++x) {
            if (kind == INK_VISIBLE ? gdTrueColorGetAlpha(row[x]) <= INK_BOX_ALPHA
                                    : !plain(row[x])) {
                run_hit(&run, x);
            }
        }
        ink_row(&ink, y, &run);
    }
    ink_end(&ink, box, pcount);
}

/* Handwriting: the canvas is transparent or white. Each pixel becomes ink
 * of the colour it would have over white with the alpha that explains it
 * ("colour to alpha" from white), times its own alpha: white and
 * transparent vanish, anti-aliased edges keep a partial alpha. */
static int handwrite_pixel(int c)
{
    int r = gdTrueColorGetRed(c), g = gdTrueColorGetGreen(c), b = gdTrueColorGetBlue(c);
    int own = (gdAlphaMax - gdTrueColorGetAlpha(c)) * 255 / gdAlphaMax; /* 0..255 */
    int aw = 255 - min3(r, g, b);                                       /* 0..255 */
    int a = own * aw / 255;

    if (a < 8) {
        return CNCA_IMAGE_CLEAR;
    }
    if (aw != 255) { /* no channel at 0; black ink keeps its colour, no division */
        r = 255 - (255 - r) * 255 / aw;
        g = 255 - (255 - g) * 255 / aw;
        b = 255 - (255 - b) * 255 / aw;
    }
    return gdTrueColorAlpha(r, g, b, gdAlphaMax - (a * gdAlphaMax + 127) / 255);
}

/* The alpha field of a fully transparent pixel (which handwrite_pixel
 * makes CNCA_IMAGE_CLEAR whatever its colour). */
#define ALPHA_BITS 0x7f000000

/* handwrite_pixel on every pixel and, in the same pass, ink_box
 * (INK_VISIBLE) of the result. Most of a canvas is fully transparent:
 * runs of eight such pixels are cleared without looking further. */
static void handwrite_clean(gdImagePtr im, cnca_image_box_t *box, long *pcount)
{
    int w = gdImageSX(im), h = gdImageSY(im), x, y, k;
    ink_t ink;
    ink_run_t run;

    ink_start(&ink, im);
    for (y = 0; y < h; ++y) {
        int *row = im->tpixels[y];
        run_start(&run, w);
        for (x = 0; x < w; ++x) {
            int c;
            while (x + 8 <= w &&
                   (row[x] & row[x + 1] & row[x + 2] & row[x + 3] & row[x + 4] & row[x + 5] &
                    row[x + 6] & row[x + 7] & ALPHA_BITS) == ALPHA_BITS) {
                for (k = 0; k < 8; ++k) {
                    row[x + k] = CNCA_IMAGE_CLEAR;
                }
                x += 8;
            }
            if (x >= w) {
                break;
            }
            if ((row[x] & ALPHA_BITS) == ALPHA_BITS) {
                row[x] = CNCA_IMAGE_CLEAR;
                continue;
            }
            row[x] = c = handwrite_pixel(row[x]);
            if (gdTrueColorGetAlpha(c) <= INK_BOX_ALPHA) {
                run_hit(&run, x);
            }
        }
        ink_row(&ink, y, &run);
    }
    ink_end(&ink, box, pcount);
}

/* Upload: is the border (a band of 2% of each side, at least a pixel)
 * plain white or transparent? */
static int border_is_plain(gdImagePtr im)
{
    int w = gdImageSX(im), h = gdImageSY(im), x, y;
    int bx = w / 50 > 1 ? w / 50 : 1, by = h / 50 > 1 ? h / 50 : 1;
    long total = 0, plain_count = 0;

    for (y = 0; y < h; ++y) {
        const int *row = im->tpixels[y];
        int edge_row = y < by || y >= h - by;
        for (x = 0; x < w; ++x) {
            if (edge_row || x < bx || x >= w - bx) {
                ++total;
                plain_count += plain(row[x]);
            } else {
                x = w - bx - 1; /* jump over the inside of the row */
            }
        }
    }
    return total > 0 && plain_count * 1000 >= total * PLAIN_SHARE;
}

/* The ink box grown by a small margin, kept inside the image. */
static void add_margin(cnca_image_box_t *box, int w, int h)
{
    int longer = box->w > box->h ? box->w : box->h;
    int m = 4 + longer / 50;
    int x0, y0, x1, y1;

    m = m > 24 ? 24 : m;
    x0 = box->x - m < 0 ? 0 : box->x - m;
    y0 = box->y - m < 0 ? 0 : box->y - m;
    x1 = box->x + box->w + m > w ? w : box->x + box->w + m;
    y1 = box->y + box->h + m > h ? h : box->y + box->h + m;
    box->x = x0;
    box->y = y0;
    box->w = x1 - x0;
    box->h = y1 - y0;
}

static const char *no_ink_message(cnca_sig_source_t src)
{
    switch (src) {
        case CNCA_SIG_HANDWRITE:
            return "未检测到签名笔迹，请在签名区域内书写您的签名";
        case CNCA_SIG_PHOTO:
            return "未能从照片中识别出签名，请在光线充足处将白纸上的签名拍清楚后重试";
        default:
            return "未能从图片中识别出签名，请重新选择签名图片";
    }
}

static const char *source_name(cnca_sig_source_t src)
{
    return src == CNCA_SIG_HANDWRITE ? "handwrite" : src == CNCA_SIG_PHOTO ? "photo" : "upload";
}

apr_status_t cnca_signature_normalize(const void **ppng, apr_size_t *plen, const char **pcode,
                                      const char **pmsg, apr_pool_t *p, const void *data,
                                      apr_size_t len, cnca_sig_source_t src,
                                      const cnca_image_limits_t *limits)
{
    gdImagePtr im = NULL, out = NULL;
    cnca_image_box_t box;
    long count = 0;
    int crop = 1;
    apr_status_t rv;

    *ppng = NULL;
    *plen = 0;
    if ((rv = cnca_image_decode(&im, pcode, pmsg, p, data, len, limits, 1)) != APR_SUCCESS) {
        goto leave;
    }
    switch (src) {
        case CNCA_SIG_HANDWRITE:
            handwrite_clean(im, &box, &count);
            break;
        case CNCA_SIG_PHOTO:
            rv = cnca_signature_photo_clean(&im, p);
            if (rv == APR_ENOENT) {
                count = 0;
                rv = APR_SUCCESS;
            } else if (rv == APR_SUCCESS) {
                ink_box(im, &box, &count, INK_VISIBLE);
            } else {
                goto internal;
            }
            break;
        default:
            if (border_is_plain(im)) {
                ink_box(im, &box, &count, INK_NOT_PLAIN);
            } else {
                crop = 0;
                box.x = box.y = 0;
                box.w = gdImageSX(im);
                box.h = gdImageSY(im);
                count = (long)box.w * box.h;
            }
            break;
    }
    if (count < MIN_INK_PIXELS) {
        rv = APR_EINVAL;
        *pcode = CNCA_IMAGE_NO_INK;
        *pmsg = no_ink_message(src);
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_INFO, rv,
                        "CNCA00409: signature refused: no ink in a %dx%d %s image", gdImageSX(im),
                        gdImageSY(im), source_name(src));
        goto leave;
    }
    if (crop) { /* give the ink some air */
        add_margin(&box, gdImageSX(im), gdImageSY(im));
    }
    if (box.w <= CNCA_SIGNATURE_MAX_WIDTH && box.h <= CNCA_SIGNATURE_MAX_HEIGHT) {
        /* kept at its size: encoded straight from the box, no copy */
        gdImageSaveAlpha(im, 1);
        rv = cnca_image_encode_png_part(ppng, plen, p, im, &box, -1);
    } else {
        out = cnca_image_fit(im, &box, CNCA_SIGNATURE_MAX_WIDTH, CNCA_SIGNATURE_MAX_HEIGHT);
        if (!out) {
            rv = APR_ENOMEM;
            cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                            "CNCA00410: out of memory for a %dx%d signature", box.w, box.h);
            goto internal;
        }
        rv = cnca_image_encode_png(ppng, plen, p, out, -1);
    }
    if (rv != APR_SUCCESS) {
        goto internal;
    }
    goto leave;
internal:
    *pcode = CNCA_IMAGE_INTERNAL;
    *pmsg = CNCA_IMAGE_MSG_INTERNAL;
leave:
    if (out) {
        gdImageDestroy(out);
    }
    if (im) {
        gdImageDestroy(im);
    }
    return rv;
}
