/* Unit tests for cnca_image*.c and cnca_signature*.c: the header probe on
 * good, cut-short, garbage and lying headers; limits checked before any
 * decoding; the signature pipeline for each source (crop, transparency,
 * photo cleaning, scaling); Exif orientation; and a run of mangled files
 * that must each give a decodable PNG or a coded refusal. Every fixture is
 * drawn here with libgd. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "tap.h"
#include "cnca_image.h"
#include "cnca_image_gd.h"
#include "cnca_log.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* ---- log capture ---- */

static char log_seen[8192];

static void log_sink(void *baton, const char *file, int line, cnca_log_level_t level,
                     apr_status_t rv, const char *msg)
{
    (void)baton, (void)file, (void)line, (void)level, (void)rv;
    if (strlen(log_seen) + strlen(msg) + 2 < sizeof(log_seen)) {
        strcat(log_seen, msg);
        strcat(log_seen, "\n");
    }
}

static int logged(const char *number)
{
    return strstr(log_seen, number) != NULL;
}

/* ---- fixtures ---- */

typedef struct {
    const unsigned char *data;
    apr_size_t len;
} blob_t;

static blob_t gd_bytes(apr_pool_t *p, void *mem, int size)
{
    blob_t b = {NULL, 0};
    if (mem) {
        b.data = apr_pmemdup(p, mem, (apr_size_t)size);
        b.len = (apr_size_t)size;
        gdFree(mem);
    }
    return b;
}

static blob_t png_of(apr_pool_t *p, gdImagePtr im)
{
    int size = 0;
    void *mem;
    gdImageSaveAlpha(im, 1);
    mem = gdImagePngPtr(im, &size);
    return gd_bytes(p, mem, size);
}

static blob_t jpeg_of(apr_pool_t *p, gdImagePtr im, int quality)
{
    int size = 0;
    void *mem = gdImageJpegPtr(im, &size, quality);
    return gd_bytes(p, mem, size);
}

static gdImagePtr canvas(int w, int h, int colour)
{
    gdImagePtr im = gdImageCreateTrueColor(w, h);
    gdImageAlphaBlending(im, 0);
    gdImageFilledRectangle(im, 0, 0, w - 1, h - 1, colour);
    gdImageAlphaBlending(im, 1);
    return im;
}

#define CLEAR gdTrueColorAlpha(0, 0, 0, gdAlphaTransparent)
#define WHITE gdTrueColor(255, 255, 255)
#define BLACK gdTrueColor(0, 0, 0)

static void stroke(gdImagePtr im, int x0, int y0, int x1, int y1, int thickness, int colour)
{
    gdImageSetThickness(im, thickness);
    gdImageLine(im, x0, y0, x1, y1, colour);
    gdImageSetThickness(im, 1);
}

/* A signature-like scribble inside (x, y, w, h). */
static void scribble(gdImagePtr im, int x, int y, int w, int h, int thickness, int colour)
{
    stroke(im, x, y + h / 2, x + w / 4, y, thickness, colour);
    stroke(im, x + w / 4, y, x + w / 2, y + h, thickness, colour);
    stroke(im, x + w / 2, y + h, x + 3 * w / 4, y + h / 3, thickness, colour);
    stroke(im, x + 3 * w / 4, y + h / 3, x + w, y + 2 * h / 3, thickness, colour);
}

static unsigned lcg_state;
static unsigned lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 16) & 0x7fff;
}

static int clamp255(int v)
{
    return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* Paper of roughly (200,200,195), lit more from the left, with noise. */
static gdImagePtr paper(int w, int h, unsigned seed)
{
    gdImagePtr im = gdImageCreateTrueColor(w, h);
    int x, y;

    lcg_state = seed;
    for (y = 0; y < h; ++y) {
        for (x = 0; x < w; ++x) {
            int light = 12 - 24 * x / w, n = (int)(lcg() % 25) - 12;
            im->tpixels[y][x] = gdTrueColor(clamp255(200 + light + n), clamp255(200 + light + n),
                                            clamp255(195 + light + n));
        }
    }
    return im;
}

/* Bounding box of pixels darker than luma 128 (opaque ones). */
static cnca_image_box_t dark_box(gdImagePtr im)
{
    cnca_image_box_t b = {0, 0, 0, 0};
    int x, y, x0 = gdImageSX(im), y0 = gdImageSY(im), x1 = -1, y1 = -1;

    for (y = 0; y < gdImageSY(im); ++y) {
        for (x = 0; x < gdImageSX(im); ++x) {
            int c = gdImageGetTrueColorPixel(im, x, y);
            int l = (gdTrueColorGetRed(c) + gdTrueColorGetGreen(c) + gdTrueColorGetBlue(c)) / 3;
            if (gdTrueColorGetAlpha(c) < 64 && l < 128) {
                x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
            }
        }
    }
    if (x1 >= 0) {
        b.x = x0, b.y = y0, b.w = x1 - x0 + 1, b.h = y1 - y0 + 1;
    }
    return b;
}

/* Bounding box of pixels with alpha below 64 (more than half opaque). */
static cnca_image_box_t opaque_box(gdImagePtr im, long *pcount)
{
    cnca_image_box_t b = {0, 0, 0, 0};
    int x, y, x0 = gdImageSX(im), y0 = gdImageSY(im), x1 = -1, y1 = -1;
    long count = 0;

    for (y = 0; y < gdImageSY(im); ++y) {
        for (x = 0; x < gdImageSX(im); ++x) {
            if (gdTrueColorGetAlpha(gdImageGetTrueColorPixel(im, x, y)) < 64) {
                ++count;
                x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
            }
        }
    }
    if (x1 >= 0) {
        b.x = x0, b.y = y0, b.w = x1 - x0 + 1, b.h = y1 - y0 + 1;
    }
    if (pcount) {
        *pcount = count;
    }
    return b;
}

static int alpha_at(gdImagePtr im, int x, int y)
{
    return gdTrueColorGetAlpha(gdImageGetTrueColorPixel(im, x, y));
}

static int corners_clear(gdImagePtr im)
{
    int w = gdImageSX(im) - 1, h = gdImageSY(im) - 1;
    return alpha_at(im, 0, 0) == 127 && alpha_at(im, w, 0) == 127 && alpha_at(im, 0, h) == 127 &&
           alpha_at(im, w, h) == 127;
}

/* Normalizes and decodes the result; NULL (with a failed test) on error. */
static gdImagePtr normalized(apr_pool_t *p, blob_t in, cnca_sig_source_t src, const char *what)
{
    const void *png = NULL;
    apr_size_t len = 0;
    const char *code = NULL, *msg = NULL;
    apr_status_t rv;
    gdImagePtr out;

    rv = cnca_signature_normalize(&png, &len, &code, &msg, p, in.data, in.len, src, NULL);
    if (!ok(rv == APR_SUCCESS && png && len > 8, what)) {
        printf("#   rv %d code %s msg %s\n", rv, code ? code : "-", msg ? msg : "-");
        return NULL;
    }
    ok(len >= 26 && !memcmp(png, "\x89PNG\r\n\x1a\n", 8) && ((const unsigned char *)png)[25] == 6,
       apr_pstrcat(p, "  PNG with alpha (RGBA): ", what, NULL));
    ok(len != in.len || memcmp(png, in.data, len), apr_pstrcat(p, "  re-encoded: ", what, NULL));
    out = gdImageCreateFromPngPtr((int)len, (void *)png);
    ok(out != NULL, apr_pstrcat(p, "  decodes: ", what, NULL));
    if (out) {
        ok(gdImageSX(out) <= 800 && gdImageSY(out) <= 400,
           apr_pstrcat(p, "  fits 800x400: ", what, NULL));
    }
    return out;
}

static void refused(apr_pool_t *p, blob_t in, cnca_sig_source_t src,
                    const cnca_image_limits_t *limits, apr_status_t want_rv, const char *want_code,
                    const char *what)
{
    const void *png = (const void *)1;
    apr_size_t len = 1;
    const char *code = NULL, *msg = NULL;
    apr_status_t rv;

    rv = cnca_signature_normalize(&png, &len, &code, &msg, p, in.data, in.len, src, limits);
    is_int(rv, want_rv, what);
    is_str(code, want_code, apr_pstrcat(p, "  code: ", what, NULL));
    ok(msg && strlen(msg) > 0, apr_pstrcat(p, "  message: ", what, NULL));
    ok(png == NULL && len == 0, apr_pstrcat(p, "  no output: ", what, NULL));
}

/* CRC-32 as PNG uses it, for hand-made headers. */
static apr_uint32_t crc32_of(const unsigned char *b, apr_size_t len)
{
    apr_uint32_t c = 0xffffffffu;
    apr_size_t i;
    int k;
    for (i = 0; i < len; ++i) {
        c ^= b[i];
        for (k = 0; k < 8; ++k) {
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
        }
    }
    return c ^ 0xffffffffu;
}

static void put32(unsigned char *b, apr_uint32_t v)
{
    b[0] = (unsigned char)(v >> 24), b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8), b[3] = (unsigned char)v;
}

/* A copy of a PNG with IHDR's width and height replaced (CRC fixed unless
 * keep_crc), padded or cut to len bytes. */
static blob_t png_lying(apr_pool_t *p, blob_t png, apr_uint32_t w, apr_uint32_t h, int keep_crc,
                        apr_size_t len)
{
    unsigned char *b = apr_pcalloc(p, len > png.len ? len : png.len);
    blob_t out;

    memcpy(b, png.data, png.len);
    put32(b + 16, w);
    put32(b + 20, h);
    if (!keep_crc) {
        put32(b + 29, crc32_of(b + 12, 17));
    }
    out.data = b;
    out.len = len;
    return out;
}

/* Offset just past the first SOFn segment of a JPEG. */
static apr_size_t jpeg_sof_end(blob_t j)
{
    apr_size_t i;
    for (i = 2; i + 3 < j.len; ++i) {
        if (j.data[i] == 0xff && (j.data[i + 1] == 0xc0 || j.data[i + 1] == 0xc2)) {
            return i + 2 + ((apr_size_t)j.data[i + 2] << 8 | j.data[i + 3]);
        }
    }
    return 0;
}

/* ---- tests ---- */

static void test_source_parse(void)
{
    cnca_sig_source_t s = CNCA_SIG_UPLOAD;

    ok(cnca_sig_source_parse(&s, "handwrite") == APR_SUCCESS && s == CNCA_SIG_HANDWRITE,
       "source handwrite");
    ok(cnca_sig_source_parse(&s, "upload") == APR_SUCCESS && s == CNCA_SIG_UPLOAD, "source upload");
    ok(cnca_sig_source_parse(&s, "photo") == APR_SUCCESS && s == CNCA_SIG_PHOTO, "source photo");
    is_int(cnca_sig_source_parse(&s, "Photo"), APR_EINVAL, "source is case-sensitive");
    is_int(cnca_sig_source_parse(&s, ""), APR_EINVAL, "empty source");
    is_int(cnca_sig_source_parse(&s, NULL), APR_EINVAL, "NULL source");
}

static void test_probe_good(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = canvas(37, 23, WHITE), pal = gdImageCreate(19, 11);
    blob_t png, jpg, prog, palpng;
    const char *type, *msg;
    int w, h;
    cnca_image_info_t info;

    png = png_of(p, im);
    jpg = jpeg_of(p, im, 90);
    gdImageInterlace(im, 1);
    prog = jpeg_of(p, im, 90);
    gdImageColorAllocate(pal, 10, 20, 30);
    palpng = png_of(p, pal);
    gdImageDestroy(im);
    gdImageDestroy(pal);

    ok(cnca_image_probe(&type, &w, &h, &msg, png.data, png.len) == APR_SUCCESS, "probe PNG");
    is_str(type, "image/png", "  type");
    ok(w == 37 && h == 23, "  37x23");
    ok(cnca_image_probe(&type, &w, &h, &msg, palpng.data, palpng.len) == APR_SUCCESS &&
           !strcmp(type, "image/png") && w == 19 && h == 11,
       "probe palette PNG 19x11");
    ok(cnca_image_probe(&type, &w, &h, &msg, jpg.data, jpg.len) == APR_SUCCESS, "probe JPEG");
    is_str(type, "image/jpeg", "  type");
    ok(w == 37 && h == 23, "  37x23");
    ok(cnca_image_inspect(&info, &msg, jpg.data, jpg.len) == APR_SUCCESS && info.scans == 1 &&
           info.orientation == 1,
       "baseline JPEG: one scan, orientation 1");
    ok(cnca_image_inspect(&info, &msg, prog.data, prog.len) == APR_SUCCESS && info.width == 37 &&
           info.height == 23 && info.scans > 1,
       "progressive JPEG: dimensions and several scans");
}

static void test_probe_truncated(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = canvas(50, 40, WHITE);
    blob_t png = png_of(p, im), jpg = jpeg_of(p, im, 80);
    apr_size_t n, sof_end = jpeg_sof_end(jpg);
    const char *type, *msg;
    int w, h, bad = 0;

    gdImageDestroy(im);
    for (n = 0; n < 33; ++n) {
        char *cut = malloc(n ? n : 1); /* exact size: an over-read shows under valgrind */
        memcpy(cut, png.data, n);
        if (cnca_image_probe(&type, &w, &h, &msg, cut, n) != APR_EINVAL || !msg || type) {
            ++bad;
        }
        free(cut);
    }
    is_int(bad, 0, "PNG cut anywhere in its first 33 bytes: refused with a message");
    ok(cnca_image_probe(&type, &w, &h, &msg, png.data, 33) == APR_SUCCESS && w == 50 && h == 40,
       "PNG signature + IHDR alone is enough to probe");

    ok(sof_end > 20 && sof_end < jpg.len, "fixture: JPEG frame header found");
    bad = 0;
    for (n = 0; n < sof_end; ++n) {
        char *cut = malloc(n ? n : 1);
        memcpy(cut, jpg.data, n);
        if (cnca_image_probe(&type, &w, &h, &msg, cut, n) != APR_EINVAL || !msg) {
            ++bad;
        }
        free(cut);
    }
    is_int(bad, 0, "JPEG cut before the end of its frame header: refused");
    bad = 0;
    for (n = sof_end; n <= jpg.len; ++n) {
        char *cut = malloc(n);
        memcpy(cut, jpg.data, n);
        if (cnca_image_probe(&type, &w, &h, &msg, cut, n) != APR_SUCCESS || w != 50 || h != 40) {
            ++bad;
        }
        free(cut);
    }
    is_int(bad, 0, "JPEG cut after its frame header: probed as 50x40");
}

static void test_probe_garbage(void)
{
    apr_pool_t *p = tap_pool();
    static const unsigned char gif[] = "GIF89a\x10\x00\x10\x00\x80\x00\x00";
    static const unsigned char only_sig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    /* SOI, APP0, then a scan with no frame, EOI */
    static const unsigned char no_sof[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00,
                                           0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00,
                                           0x3f, 0x00, 0x12, 0x34, 0xff, 0xd9};
    static const unsigned char soi_eoi[] = {0xff, 0xd8, 0xff, 0xd9};
    static const unsigned char bad_len[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0x00};
    static const unsigned char huge_len[] = {0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff, 0x00, 0x00};
    unsigned char rnd[512];
    const char *type, *msg;
    int w, h, i;

    lcg_state = 7;
    for (i = 0; i < (int)sizeof(rnd); ++i) {
        rnd[i] = (unsigned char)lcg();
    }
    ok(cnca_image_probe(&type, &w, &h, &msg, gif, sizeof(gif) - 1) == APR_EINVAL, "GIF refused");
    ok(msg != NULL, "  with a reason");
    is_int(cnca_image_probe(&type, &w, &h, &msg, only_sig, sizeof(only_sig)), APR_EINVAL,
           "PNG signature alone refused");
    is_int(cnca_image_probe(&type, &w, &h, &msg, no_sof, sizeof(no_sof)), APR_EINVAL,
           "JPEG without SOF refused");
    is_int(cnca_image_probe(&type, &w, &h, &msg, soi_eoi, sizeof(soi_eoi)), APR_EINVAL,
           "JPEG SOI+EOI refused");
    is_int(cnca_image_probe(&type, &w, &h, &msg, bad_len, sizeof(bad_len)), APR_EINVAL,
           "JPEG segment length 1 refused");
    is_int(cnca_image_probe(&type, &w, &h, &msg, huge_len, sizeof(huge_len)), APR_EINVAL,
           "JPEG segment longer than the file refused");
    is_int(cnca_image_probe(&type, &w, &h, &msg, rnd, sizeof(rnd)), APR_EINVAL,
           "random bytes refused");
    is_int(cnca_image_probe(&type, &w, &h, &msg, "", 0), APR_EINVAL, "zero length refused");
    is_int(cnca_image_probe(&type, &w, &h, &msg, NULL, 0), APR_EINVAL, "NULL refused");
    refused(p, (blob_t){rnd, sizeof(rnd)}, CNCA_SIG_UPLOAD, NULL, APR_EINVAL,
            CNCA_IMAGE_NOT_AN_IMAGE, "normalize: random bytes");
    refused(p, (blob_t){(const unsigned char *)"", 0}, CNCA_SIG_HANDWRITE, NULL, APR_EINVAL,
            CNCA_IMAGE_NOT_AN_IMAGE, "normalize: zero length");
    refused(p, (blob_t){no_sof, sizeof(no_sof)}, CNCA_SIG_PHOTO, NULL, APR_EINVAL,
            CNCA_IMAGE_NOT_AN_IMAGE, "normalize: JPEG without SOF");
}

static void test_lying_headers(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = canvas(10, 10, WHITE);
    blob_t png = png_of(p, im), lie;
    const char *type, *msg;
    int w, h;
    unsigned char sof[] = {0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xea, 0x60, 0xea, 0x60, 0x03,
                           0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xda, 0x00,
                           0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x00, 0xff, 0xd9};

    gdImageDestroy(im);
    lie = png_lying(p, png, 100000, 100000, 0, 200);
    ok(cnca_image_probe(&type, &w, &h, &msg, lie.data, lie.len) == APR_SUCCESS && w == 100000 &&
           h == 100000,
       "200-byte PNG claiming 100000x100000: header read as is");
    log_seen[0] = '\0';
    refused(p, lie, CNCA_SIG_UPLOAD, NULL, APR_ENOSPC, CNCA_IMAGE_TOO_MANY_PIXELS,
            "normalize: 100000x100000 PNG");
    ok(logged("CNCA00402") && !logged("CNCA00404") && !logged("CNCA00449"),
       "  refused from the header, never handed to the decoder");
    ok(cnca_image_decode_size(&w, &h, &msg, lie.data, lie.len, NULL) == APR_ENOSPC && w == 0 && msg,
       "decode_size: 100000x100000 PNG refused");

    ok(cnca_image_probe(&type, &w, &h, &msg, sof, sizeof(sof)) == APR_SUCCESS &&
           !strcmp(type, "image/jpeg") && w == 60000 && h == 60000,
       "JPEG claiming 60000x60000: header read as is");
    refused(p, (blob_t){sof, sizeof(sof)}, CNCA_SIG_PHOTO, NULL, APR_ENOSPC,
            CNCA_IMAGE_TOO_MANY_PIXELS, "normalize: 60000x60000 JPEG");

    lie = png_lying(p, png, 20, 20, 1, png.len);
    is_int(cnca_image_probe(&type, &w, &h, &msg, lie.data, lie.len), APR_EINVAL,
           "PNG IHDR with a wrong CRC refused");
    lie = png_lying(p, png, 0, 10, 0, png.len);
    is_int(cnca_image_probe(&type, &w, &h, &msg, lie.data, lie.len), APR_EINVAL,
           "PNG width 0 refused");
    lie = png_lying(p, png, 10, 0x80000000u, 0, png.len);
    is_int(cnca_image_probe(&type, &w, &h, &msg, lie.data, lie.len), APR_EINVAL,
           "PNG height 2^31 refused");
    /* a PNG whose header says 20x20 but whose data is for 10x10 */
    lie = png_lying(p, png, 20, 20, 0, png.len);
    refused(p, lie, CNCA_SIG_UPLOAD, NULL, APR_EINVAL, CNCA_IMAGE_NOT_AN_IMAGE,
            "normalize: PNG data too short for its header");
}

static void test_limits(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = canvas(100, 60, WHITE);
    cnca_image_limits_t small = {0, 80, 80}, bytes = {0, 0, 0}, exact = {0, 100, 60};
    blob_t png, big;
    const void *out;
    apr_size_t len;
    const char *code, *msg;
    unsigned char *junk;
    int w, h;

    scribble(im, 10, 10, 80, 40, 3, BLACK);
    png = png_of(p, im);
    gdImageDestroy(im);

    log_seen[0] = '\0';
    refused(p, png, CNCA_SIG_HANDWRITE, &small, APR_ENOSPC, CNCA_IMAGE_TOO_MANY_PIXELS,
            "100x60 over an 80x80 limit");
    ok(logged("CNCA00402") && !logged("CNCA00404"), "  refused before decoding");
    ok(cnca_signature_normalize(&out, &len, &code, &msg, p, png.data, png.len, CNCA_SIG_HANDWRITE,
                                &exact) == APR_SUCCESS,
       "100x60 at a 100x60 limit accepted");

    cnca_signature_normalize(&out, &len, &code, &msg, p, png.data, png.len, CNCA_SIG_HANDWRITE,
                             &small);
    is_str(msg, "图片尺寸过大，请选择宽不超过80像素、高不超过80像素的图片",
           "  pixel message names the limit");

    bytes.max_bytes = png.len - 1;
    refused(p, png, CNCA_SIG_UPLOAD, &bytes, APR_ENOSPC, CNCA_IMAGE_TOO_LARGE,
            "PNG a byte over the byte limit");
    bytes.max_bytes = png.len;
    ok(cnca_signature_normalize(&out, &len, &code, &msg, p, png.data, png.len, CNCA_SIG_UPLOAD,
                                &bytes) == APR_SUCCESS,
       "PNG at the byte limit accepted");

    /* the default byte limit: 2 MB + 1 of garbage is too large, not "not an image" */
    junk = apr_pcalloc(p, CNCA_IMAGE_MAX_BYTES + 1);
    big.data = junk;
    big.len = CNCA_IMAGE_MAX_BYTES + 1;
    refused(p, big, CNCA_SIG_UPLOAD, NULL, APR_ENOSPC, CNCA_IMAGE_TOO_LARGE,
            "2 MB + 1 byte refused by size first");
    cnca_signature_normalize(&out, &len, &code, &msg, p, big.data, big.len, CNCA_SIG_UPLOAD, NULL);
    is_str(msg, "图片过大，请选择不超过2MB的图片", "  the applicant's message");
    ok(cnca_image_decode_size(&w, &h, &msg, big.data, big.len, NULL) == APR_ENOSPC,
       "decode_size: 2 MB + 1 refused");
}

static void test_decode_size(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = canvas(64, 64, gdTrueColor(90, 120, 150)), tiny = canvas(10, 12, WHITE);
    blob_t jpg = jpeg_of(p, im, 85), png = png_of(p, tiny), half;
    const char *msg = NULL;
    int w = 0, h = 0;

    gdImageDestroy(im);
    gdImageDestroy(tiny);
    ok(cnca_image_decode_size(&w, &h, &msg, jpg.data, jpg.len, NULL) == APR_SUCCESS && w == 64 &&
           h == 64,
       "decode_size: 64x64 JPEG");
    ok(cnca_image_decode_size(&w, &h, &msg, png.data, png.len, NULL) == APR_SUCCESS && w == 10 &&
           h == 12,
       "decode_size: 10x12 PNG");
    ok(cnca_image_decode_size(&w, &h, &msg, "hello", 5, NULL) == APR_EINVAL && msg &&
           strstr(msg, "PNG"),
       "decode_size: garbage refused with a message");
    half.data = png.data;
    half.len = png.len - 20;
    ok(cnca_image_decode_size(&w, &h, &msg, half.data, half.len, NULL) == APR_EINVAL,
       "decode_size: PNG cut short refused");
}

static void test_handwrite(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = canvas(400, 200, CLEAR), out;
    cnca_image_box_t src, got;
    long count;
    blob_t png;

    stroke(im, 120, 90, 280, 110, 5, BLACK);
    src = opaque_box(im, NULL);
    png = png_of(p, im);
    gdImageDestroy(im);
    if ((out = normalized(p, png, CNCA_SIG_HANDWRITE, "handwrite: stroke on transparent"))) {
        got = opaque_box(out, &count);
        ok(got.w == src.w && got.h == src.h, "  ink kept at its size");
        ok(got.x >= 4 && got.y >= 4 && got.x <= 24 && got.y <= 24 &&
               gdImageSX(out) - got.x - got.w >= 4 && gdImageSX(out) - got.x - got.w <= 24 &&
               gdImageSY(out) - got.y - got.h >= 4 && gdImageSY(out) - got.y - got.h <= 24,
           "  cropped tightly: a margin of 4 to 24 pixels on each side");
        ok(corners_clear(out), "  background transparent");
        ok(gdImageTrueColorPixel(out, got.x + got.w / 2, got.y + got.h / 2) ==
               gdTrueColorAlpha(0, 0, 0, 0),
           "  the stroke's middle is opaque black");
        gdImageDestroy(out);
    }

    /* drawn on a white canvas and sent as JPEG: white goes, blue ink stays */
    im = canvas(300, 150, WHITE);
    scribble(im, 60, 40, 180, 60, 4, gdTrueColor(20, 40, 160));
    src = dark_box(im);
    png = jpeg_of(p, im, 90);
    gdImageDestroy(im);
    if ((out = normalized(p, png, CNCA_SIG_HANDWRITE, "handwrite: blue on white JPEG"))) {
        got = opaque_box(out, &count);
        ok(corners_clear(out), "  white became transparent");
        ok(abs(got.w - src.w) <= 4 && abs(got.h - src.h) <= 4 && gdImageSX(out) < 250,
           "  cropped to the ink");
        ok(count > 500, "  ink is opaque");
        gdImageDestroy(out);
    }

    /* anti-aliasing on white: gray is half-transparent black */
    im = canvas(60, 60, WHITE);
    gdImageFilledRectangle(im, 10, 10, 29, 49, gdTrueColor(128, 128, 128));
    gdImageFilledRectangle(im, 30, 10, 49, 49, BLACK);
    png = png_of(p, im);
    gdImageDestroy(im);
    if ((out = normalized(p, png, CNCA_SIG_HANDWRITE, "handwrite: gray and black on white"))) {
        got = opaque_box(out, NULL);
        int gray = gdImageTrueColorPixel(out, got.x - 5, got.y + 10);
        int black = gdImageTrueColorPixel(out, got.x + 5, got.y + 10);
        ok(abs(gdTrueColorGetAlpha(gray) - 64) <= 2 && gdTrueColorGetRed(gray) <= 4,
           "  gray (128) became black at half alpha");
        ok(black == gdTrueColorAlpha(0, 0, 0, 0), "  black stayed opaque black");
        gdImageDestroy(out);
    }
}

static void test_no_ink(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr clear = canvas(300, 100, CLEAR), white = canvas(300, 100, WHITE);
    gdImagePtr blank = paper(400, 300, 11), dot = canvas(300, 100, CLEAR);
    const void *out;
    apr_size_t len;
    const char *code, *msg;

    gdImageSetPixel(dot, 150, 50, BLACK);
    refused(p, png_of(p, clear), CNCA_SIG_HANDWRITE, NULL, APR_EINVAL, CNCA_IMAGE_NO_INK,
            "handwrite: transparent canvas");
    refused(p, png_of(p, white), CNCA_SIG_HANDWRITE, NULL, APR_EINVAL, CNCA_IMAGE_NO_INK,
            "handwrite: white canvas");
    refused(p, png_of(p, dot), CNCA_SIG_HANDWRITE, NULL, APR_EINVAL, CNCA_IMAGE_NO_INK,
            "handwrite: a single dot");
    refused(p, jpeg_of(p, white, 85), CNCA_SIG_UPLOAD, NULL, APR_EINVAL, CNCA_IMAGE_NO_INK,
            "upload: white JPEG");
    refused(p, jpeg_of(p, blank, 85), CNCA_SIG_PHOTO, NULL, APR_EINVAL, CNCA_IMAGE_NO_INK,
            "photo: blank paper with noise and uneven light");
    cnca_signature_normalize(&out, &len, &code, &msg, p, png_of(p, clear).data,
                             png_of(p, clear).len, CNCA_SIG_HANDWRITE, NULL);
    ok(msg && strstr(msg, "签名"), "  the message speaks of the signature");
    gdImageDestroy(clear);
    gdImageDestroy(white);
    gdImageDestroy(blank);
    gdImageDestroy(dot);
}

static void test_upload(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = canvas(500, 300, WHITE), out;
    int x, y;

    scribble(im, 150, 100, 200, 80, 4, BLACK);
    if ((out = normalized(p, png_of(p, im), CNCA_SIG_UPLOAD, "upload: black on white"))) {
        ok(gdImageSX(out) < 260 && gdImageSY(out) < 140 && gdImageSX(out) >= 200,
           "  cropped to the ink");
        ok(gdImageTrueColorPixel(out, 0, 0) == gdTrueColor(255, 255, 255),
           "  pixels kept as they were (white stays white)");
        gdImageDestroy(out);
    }
    gdImageDestroy(im);

    /* a picture with no plain border is kept whole */
    im = gdImageCreateTrueColor(500, 300);
    for (y = 0; y < 300; ++y) {
        for (x = 0; x < 500; ++x) {
            im->tpixels[y][x] = gdTrueColor(x / 2, y / 2, 128);
        }
    }
    if ((out = normalized(p, jpeg_of(p, im, 90), CNCA_SIG_UPLOAD, "upload: a coloured picture"))) {
        ok(gdImageSX(out) == 500 && gdImageSY(out) == 300, "  kept whole (500x300)");
        gdImageDestroy(out);
    }
    gdImageDestroy(im);

    im = gdImageCreateTrueColor(1600, 600);
    for (y = 0; y < 600; ++y) {
        for (x = 0; x < 1600; ++x) {
            im->tpixels[y][x] = gdTrueColor(x / 7, y / 3, 60);
        }
    }
    if ((out = normalized(p, png_of(p, im), CNCA_SIG_UPLOAD, "upload: 1600x600 picture"))) {
        ok(gdImageSX(out) == 800 && gdImageSY(out) == 300, "  scaled to 800x300");
        gdImageDestroy(out);
    }
    gdImageDestroy(im);
}

static void test_scale(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = canvas(1800, 900, CLEAR), out;

    scribble(im, 100, 100, 1600, 700, 12, BLACK);
    if ((out = normalized(p, png_of(p, im), CNCA_SIG_HANDWRITE, "handwrite: 1800x900 scribble"))) {
        double ratio = (double)gdImageSX(out) / gdImageSY(out);
        ok((gdImageSX(out) == 800 || gdImageSY(out) == 400), "  scaled down to the 800x400 box");
        ok(ratio > 1600.0 / 700 * 0.95 && ratio < 1600.0 / 700 * 1.1, "  aspect ratio kept");
        ok(corners_clear(out), "  still transparent around");
        gdImageDestroy(out);
    }
    gdImageDestroy(im);
}

/* Checks a cleaned photo: transparent paper, dark opaque ink, and a size
 * near the ink's (want_w x want_h, plus margins). */
static void check_photo(gdImagePtr out, int want_w, int want_h, const char *what)
{
    apr_pool_t *p = tap_pool();
    long opaque = 0, visible = 0, dark_ok = 1, total;
    int x, y;

    total = (long)gdImageSX(out) * gdImageSY(out);
    for (y = 0; y < gdImageSY(out); ++y) {
        for (x = 0; x < gdImageSX(out); ++x) {
            int c = gdImageTrueColorPixel(out, x, y), a = gdTrueColorGetAlpha(c);
            int l = (gdTrueColorGetRed(c) + gdTrueColorGetGreen(c) + gdTrueColorGetBlue(c)) / 3;
            visible += a < 127;
            if (a <= 8) {
                ++opaque;
                dark_ok &= l <= 60;
            }
        }
    }
    ok(corners_clear(out), apr_pstrcat(p, "  ", what, ": paper is transparent", NULL));
    ok(visible * 3 < total, apr_pstrcat(p, "  ", what, ": most of the picture is clear", NULL));
    ok(opaque > 300, apr_pstrcat(p, "  ", what, ": the ink is opaque", NULL));
    ok(dark_ok, apr_pstrcat(p, "  ", what, ": and dark", NULL));
    ok(gdImageSX(out) >= want_w && gdImageSX(out) <= want_w + 60 && gdImageSY(out) >= want_h &&
           gdImageSY(out) <= want_h + 60,
       apr_pstrcat(p, "  ", what, ": cropped to the ink", NULL));
    if (gdImageSX(out) < want_w || gdImageSX(out) > want_w + 60 || gdImageSY(out) < want_h ||
        gdImageSY(out) > want_h + 60) {
        printf("#   got %dx%d, ink %dx%d\n", gdImageSX(out), gdImageSY(out), want_w, want_h);
    }
}

static void test_photo(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = paper(600, 300, 1), out;
    int x, y;

    scribble(im, 180, 110, 260, 90, 6, gdTrueColor(40, 40, 45));
    if ((out = normalized(p, jpeg_of(p, im, 85), CNCA_SIG_PHOTO, "photo: stroke on gray paper"))) {
        check_photo(out, 260, 90, "photo");
        gdImageDestroy(out);
    }
    gdImageDestroy(im);

    /* the table shows at the left, a shadow falls on the right third */
    im = paper(600, 300, 2);
    for (y = 0; y < 300; ++y) {
        for (x = 0; x < 600; ++x) {
            int c = im->tpixels[y][x];
            if (x < 90) {
                int n = (int)(lcg() % 21) - 10;
                im->tpixels[y][x] = gdTrueColor(70 + n, 55 + n, 40 + n);
            } else if (x > 420) {
                im->tpixels[y][x] =
                    gdTrueColor(gdTrueColorGetRed(c) * 6 / 10, gdTrueColorGetGreen(c) * 6 / 10,
                                gdTrueColorGetBlue(c) * 6 / 10);
            }
        }
    }
    scribble(im, 150, 100, 380, 100, 7, gdTrueColor(25, 30, 60));
    if ((out =
             normalized(p, jpeg_of(p, im, 80), CNCA_SIG_PHOTO, "photo: table edge and a shadow"))) {
        check_photo(out, 380, 100, "photo with table and shadow");
        gdImageDestroy(out);
    }
    gdImageDestroy(im);

    /* a big photo is worked on at 1600 and kept at 800x400 at most */
    im = paper(2400, 1600, 3);
    scribble(im, 400, 500, 1600, 500, 18, gdTrueColor(30, 30, 30));
    if ((out = normalized(p, jpeg_of(p, im, 80), CNCA_SIG_PHOTO, "photo: 2400x1600"))) {
        /* ink 1600x500 at 2/3, with margins, then scaled to 800 wide */
        check_photo(out, 760, 240, "big photo");
        gdImageDestroy(out);
    }
    gdImageDestroy(im);
}

/* A JPEG with an Exif APP1 (orientation o) spliced in after SOI. */
static blob_t with_exif(apr_pool_t *p, blob_t jpg, int o, int little)
{
    unsigned char app1[] = {0xff,
                            0xe1,
                            0x00,
                            0x22,
                            'E',
                            'x',
                            'i',
                            'f',
                            0,
                            0,
                            /* TIFF header */ 'M',
                            'M',
                            0,
                            42,
                            0,
                            0,
                            0,
                            8,
                            /* IFD0: 1 entry */ 0,
                            1,
                            /* tag 0x0112 SHORT count 1 value o */ 0x01,
                            0x12,
                            0,
                            3,
                            0,
                            0,
                            0,
                            1,
                            0,
                            (unsigned char)o,
                            0,
                            0,
                            /* next IFD */ 0,
                            0,
                            0,
                            0};
    unsigned char *b = apr_palloc(p, jpg.len + sizeof(app1));
    blob_t out;

    if (little) {
        unsigned char le[] = {
            'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (unsigned char)o,
            0,   0,   0,  0, 0, 0, 0};
        memcpy(app1 + 10, le, sizeof(le));
    }
    memcpy(b, jpg.data, 2);
    memcpy(b + 2, app1, sizeof(app1));
    memcpy(b + 2 + sizeof(app1), jpg.data + 2, jpg.len - 2);
    out.data = b;
    out.len = jpg.len + sizeof(app1);
    return out;
}

static int reddish(gdImagePtr im, int x, int y)
{
    int c = gdImageTrueColorPixel(im, x, y);
    return gdTrueColorGetRed(c) > 180 && gdTrueColorGetBlue(c) < 80;
}

static void test_orientation(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = canvas(40, 20, gdTrueColor(0, 0, 255)), up;
    blob_t jpg;
    cnca_image_info_t info;
    const char *code, *msg;

    gdImageFilledRectangle(im, 0, 0, 19, 19, gdTrueColor(255, 0, 0));
    jpg = jpeg_of(p, im, 95);
    gdImageDestroy(im);

    ok(cnca_image_inspect(&info, &msg, with_exif(p, jpg, 6, 0).data, jpg.len + 36) == APR_SUCCESS &&
           info.orientation == 6 && info.width == 40,
       "Exif orientation 6 read (big-endian)");
    ok(cnca_image_inspect(&info, &msg, with_exif(p, jpg, 8, 1).data, jpg.len + 36) == APR_SUCCESS &&
           info.orientation == 8,
       "Exif orientation 8 read (little-endian)");
    ok(cnca_image_inspect(&info, &msg, with_exif(p, jpg, 9, 0).data, jpg.len + 36) == APR_SUCCESS &&
           info.orientation == 1,
       "Exif orientation 9 ignored");

    if (cnca_image_decode(&up, &code, &msg, p, with_exif(p, jpg, 6, 0).data, jpg.len + 36, NULL,
                          1) == APR_SUCCESS) {
        ok(gdImageSX(up) == 20 && gdImageSY(up) == 40, "orientation 6: turned to 20x40");
        ok(reddish(up, 10, 5) && !reddish(up, 10, 35), "  the left (red) half is now on top");
        gdImageDestroy(up);
    } else {
        ok(0, "orientation 6 decodes");
    }
    if (cnca_image_decode(&up, &code, &msg, p, with_exif(p, jpg, 8, 1).data, jpg.len + 36, NULL,
                          1) == APR_SUCCESS) {
        ok(gdImageSX(up) == 20 && gdImageSY(up) == 40 && reddish(up, 10, 35) && !reddish(up, 10, 5),
           "orientation 8: 20x40, red at the bottom");
        gdImageDestroy(up);
    } else {
        ok(0, "orientation 8 decodes");
    }
    if (cnca_image_decode(&up, &code, &msg, p, with_exif(p, jpg, 3, 0).data, jpg.len + 36, NULL,
                          1) == APR_SUCCESS) {
        ok(gdImageSX(up) == 40 && reddish(up, 35, 10) && !reddish(up, 5, 10),
           "orientation 3: red on the right");
        gdImageDestroy(up);
    } else {
        ok(0, "orientation 3 decodes");
    }
}

static void test_scan_limit(void)
{
    apr_pool_t *p = tap_pool();
    static const unsigned char head[] = {0xff, 0xd8, 0xff, 0xc2, 0x00, 0x0b, 0x08, 0x00,
                                         0x10, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00};
    static const unsigned char scan[] = {0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00,
                                         0x3f, 0x00, 0x12, 0xff, 0x00, 0x34, 0xff, 0xd0};
    int n = CNCA_IMAGE_MAX_JPEG_SCANS + 1, i;
    apr_size_t len = sizeof(head) + n * sizeof(scan) + 2;
    unsigned char *b = apr_palloc(p, len), *at = b;
    cnca_image_info_t info;
    const char *msg;

    memcpy(at, head, sizeof(head));
    at += sizeof(head);
    for (i = 0; i < n; ++i, at += sizeof(scan)) {
        memcpy(at, scan, sizeof(scan));
    }
    at[0] = 0xff, at[1] = 0xd9;
    ok(cnca_image_inspect(&info, &msg, b, len) == APR_SUCCESS && info.scans == n,
       "scans counted through stuffed bytes and restart markers");
    log_seen[0] = '\0';
    refused(p, (blob_t){b, len}, CNCA_SIG_UPLOAD, NULL, APR_EINVAL, CNCA_IMAGE_NOT_AN_IMAGE,
            "JPEG with too many scans");
    ok(logged("CNCA00403") && !logged("CNCA00404"), "  refused before decoding");
}

/* Mangled and cut-short files: each gives a PNG that decodes or a coded
 * refusal, never a crash (run under valgrind for the memory side). */
static void test_mangled(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = paper(96, 48, 5);
    blob_t srcs[2];
    int i, bad = 0, done = 0, refusals = 0, rounds = RUNNING_ON_VALGRIND ? 60 : 400;

    scribble(im, 10, 10, 70, 25, 3, BLACK);
    srcs[0] = png_of(p, im);
    srcs[1] = jpeg_of(p, im, 75);
    gdImageDestroy(im);
    lcg_state = 99;
    for (i = 0; i < rounds; ++i) {
        apr_pool_t *q = tap_pool();
        blob_t s = srcs[i % 2];
        unsigned char *b = apr_pmemdup(q, s.data, s.len);
        apr_size_t len = s.len;
        const void *out;
        apr_size_t out_len;
        const char *code = NULL, *msg = NULL;
        apr_status_t rv;
        int k, flips = 1 + (int)(lcg() % 8);

        for (k = 0; k < flips; ++k) {
            b[lcg() % len] = (unsigned char)lcg();
        }
        if (lcg() % 3 == 0) {
            len = 1 + lcg() % len;
        }
        rv = cnca_signature_normalize(&out, &out_len, &code, &msg, q, b, len,
                                      (cnca_sig_source_t)(i % 3), NULL);
        if (rv == APR_SUCCESS) {
            gdImagePtr dec = gdImageCreateFromPngPtr((int)out_len, (void *)out);
            bad += dec == NULL;
            if (dec) {
                gdImageDestroy(dec);
            }
        } else {
            ++refusals;
            bad += !code || !msg;
        }
        ++done;
        apr_pool_destroy(q);
    }
    is_int(bad, 0, "mangled files: every result decodes or is a coded refusal");
    ok(refusals > 0 && refusals < done, "  some refused, some still read");
}

int main(void)
{
    cnca_log_set_sink(log_sink, NULL);
    cnca_log_set_level(CNCA_LOG_DEBUG);
    cnca_image_init();

    test_source_parse();
    test_probe_good();
    test_probe_truncated();
    test_probe_garbage();
    test_lying_headers();
    test_limits();
    test_decode_size();
    test_handwrite();
    test_no_ink();
    test_upload();
    test_scale();
    test_photo();
    test_orientation();
    test_scan_limit();
    test_mangled();

    cnca_image_terminate();
    return tap_done();
}
