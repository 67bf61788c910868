/* Unit tests for cnca_image*.c and cnca_signature*.c: the header probe on
 * good, cut-short, garbage and lying headers; limits checked before any
 * decoding; the signature pipeline for each source (crop, transparency,
 * photo cleaning, scaling); Exif orientation; and a run of mangled files
 * that must each give a decodable PNG or a coded refusal. Every fixture is
 * drawn here with libgd. */
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

#include <apr_strings.h>

#include "tap.h"
#include "cnca_image.h"
#include "cnca_image_gd.h"
#include "cnca_image_lodepng.h"
#include "cnca_log.h"

/* mallinfo2: bytes in use, for the leak check of refused PNGs */
#if defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 33)
#include <malloc.h>
#define HAVE_MALLINFO2 1
#endif
#endif

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

/* Big-endian 32 bits. */
static apr_uint32_t get32(const unsigned char *b)
{
    return (apr_uint32_t)b[0] << 24 | (apr_uint32_t)b[1] << 16 | (apr_uint32_t)b[2] << 8 | b[3];
}

/* Offset of the first chunk of this type (at its length field), or 0. */
static apr_size_t chunk_at(const unsigned char *b, apr_size_t len, const char *type)
{
    apr_size_t at = 8;

    while (at + 12 <= len) {
        apr_uint32_t n = get32(b + at);
        if (!memcmp(b + at + 4, type, 4)) {
            return at;
        }
        if (n > len - at - 12) {
            return 0;
        }
        at += 12 + n;
    }
    return 0;
}

/* The PNG's IHDR colour type (byte 25). */
static int color_type_of(const void *png, apr_size_t len)
{
    return len > 25 ? ((const unsigned char *)png)[25] : -1;
}

/* Grey or RGB with alpha, or a palette with tRNS. */
static int has_alpha(const void *png, apr_size_t len)
{
    int t = color_type_of(png, len);
    return t == 4 || t == 6 || (t == 3 && chunk_at(png, len, "tRNS") != 0);
}

/* Normalizes and decodes the result (as a truecolor image); NULL (with a
 * failed test) on error. */
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
    ok(len >= 26 && !memcmp(png, "\x89PNG\r\n\x1a\n", 8) && has_alpha(png, len),
       apr_pstrcat(p, "  PNG with alpha: ", what, NULL));
    ok(len != in.len || memcmp(png, in.data, len), apr_pstrcat(p, "  re-encoded: ", what, NULL));
    out = gdImageCreateFromPngPtr((int)len, (void *)png);
    ok(out != NULL && gdImagePaletteToTrueColor(out), apr_pstrcat(p, "  decodes: ", what, NULL));
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

static void put32(unsigned char *b, apr_uint32_t v)
{
    b[0] = (unsigned char)(v >> 24), b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8), b[3] = (unsigned char)v;
}

/* The CRC-32 (zlib's) of the chunk at b + at (its length field) made right
 * for its type and data as they now are. */
static void chunk_crc_fix(unsigned char *b, apr_size_t at)
{
    apr_uint32_t n = get32(b + at);
    put32(b + at + 8 + n, (apr_uint32_t)crc32(0L, b + at + 4, n + 4));
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
        chunk_crc_fix(b, 8); /* IHDR */
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

/* How many pixels of the w x h area at (ax, ay) of truecolor a differ
 * from those at (bx, by) of truecolor b. */
static int pixels_differ(gdImagePtr a, int ax, int ay, gdImagePtr b, int bx, int by, int w, int h)
{
    int x, y, diff = 0;

    for (y = 0; y < h; ++y) {
        for (x = 0; x < w; ++x) {
            diff += a->tpixels[ay + y][ax + x] != b->tpixels[by + y][bx + x];
        }
    }
    return diff;
}

/* The colour-to-alpha rule of handwriting, written plainly (as
 * cnca_signature.c had it before its fast paths). */
static int handwrite_reference(int c)
{
    int r = gdTrueColorGetRed(c), g = gdTrueColorGetGreen(c), b = gdTrueColorGetBlue(c);
    int m = r < g ? (r < b ? r : b) : (g < b ? g : b);
    int own = (gdAlphaMax - gdTrueColorGetAlpha(c)) * 255 / gdAlphaMax;
    int aw = 255 - m, a = own * aw / 255;

    if (a < 8) {
        return CNCA_IMAGE_CLEAR;
    }
    r = 255 - (255 - r) * 255 / aw;
    g = 255 - (255 - g) * 255 / aw;
    b = 255 - (255 - b) * 255 / aw;
    return gdTrueColorAlpha(r, g, b, gdAlphaMax - (a * gdAlphaMax + 127) / 255);
}

/* Every pixel kept from a canvas is what the rule gives, inside the ink
 * box (alpha at most 111) plus its margin: runs of clear pixels of every
 * length and phase, white, black and grey ink at every alpha, colours. */
static void test_handwrite_exact(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = gdImageCreateTrueColor(331, 97), want, out;
    int x, y, x0 = 331, y0 = 97, x1 = -1, y1 = -1, m;

    lcg_state = 17;
    for (y = 0; y < 97; ++y) {
        for (x = 0; x < 331; ++x) {
            unsigned k = lcg() % 16, v = lcg();
            int c;
            if (x < 40 || x > 300 || y < 30 || y > 80 || k < 7) { /* clear, in runs */
                c = (v & 3) ? gdTrueColorAlpha(0, 0, 0, 127) : gdTrueColorAlpha(v & 255, 9, 9, 127);
            } else if (k < 9) {
                c = gdTrueColorAlpha(0, 0, 0, (int)(v % 128));
            } else if (k < 11) {
                c = gdTrueColorAlpha(255, 255, 255, (int)(v % 128));
            } else if (k < 13) {
                c = gdTrueColorAlpha((int)(v & 255), (int)(v & 255), (int)(v & 255),
                                     (int)(v % 128));
            } else {
                c = gdTrueColorAlpha((int)(v & 255), (int)(lcg() & 255), (int)(lcg() & 255),
                                     (int)(v % 128));
            }
            im->tpixels[y][x] = c;
        }
    }
    /* the box's threshold: alpha 111 after cleaning counts, 112 does not */
    im->tpixels[3][5] = gdTrueColorAlpha(0, 0, 0, 111);
    im->tpixels[94][327] = gdTrueColorAlpha(0, 0, 0, 112);
    want = gdImageCreateTrueColor(331, 97);
    for (y = 0; y < 97; ++y) {
        for (x = 0; x < 331; ++x) {
            int c = handwrite_reference(im->tpixels[y][x]);
            want->tpixels[y][x] = c;
            if (gdTrueColorGetAlpha(c) <= 111) {
                x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
            }
        }
    }
    m = 4 + ((x1 - x0 + 1) > (y1 - y0 + 1) ? x1 - x0 + 1 : y1 - y0 + 1) / 50;
    m = m > 24 ? 24 : m;
    x0 = x0 - m < 0 ? 0 : x0 - m, y0 = y0 - m < 0 ? 0 : y0 - m;
    x1 = x1 + m > 330 ? 330 : x1 + m, y1 = y1 + m > 96 ? 96 : y1 + m;
    if ((out =
             normalized(p, png_of(p, im), CNCA_SIG_HANDWRITE, "handwrite: every kind of pixel"))) {
        if (ok(x0 == 0 && y0 == 0 && x1 < 330 && y1 < 96 && gdImageSX(out) == x1 - x0 + 1 &&
                   gdImageSY(out) == y1 - y0 + 1,
               "  cropped to the ink box and its margin")) {
            is_int(pixels_differ(out, 0, 0, want, x0, y0, gdImageSX(out), gdImageSY(out)), 0,
                   "  every pixel as the colour-to-alpha rule gives");
        }
        gdImageDestroy(out);
    }
    gdImageDestroy(want);
    gdImageDestroy(im);
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

/* ---- PNG through libpng: the encoder and the decoder ---- */

/* Colour type and how libgd would read a pixel back from a PNG written
 * from a truecolor image: with its alpha when saved, else opaque. */
static int as_written(gdImagePtr im, int c)
{
    return im->saveAlphaFlag ? c & 0x7fffffff : c & 0xffffff;
}

static int all_grey_image(gdImagePtr im)
{
    int x, y;
    for (y = 0; y < gdImageSY(im); ++y) {
        for (x = 0; x < gdImageSX(im); ++x) {
            int c = im->tpixels[y][x];
            if (gdTrueColorGetRed(c) != gdTrueColorGetBlue(c) ||
                gdTrueColorGetGreen(c) != gdTrueColorGetBlue(c)) {
                return 0;
            }
        }
    }
    return 1;
}

/* The form the encoder should choose for im (see cnca_image_gd.h). */
static int expected_type(gdImagePtr im)
{
    if (all_grey_image(im) && (im->saveAlphaFlag || im->transparent < 0)) {
        return im->saveAlphaFlag ? PNG_COLOR_TYPE_GRAY_ALPHA : PNG_COLOR_TYPE_GRAY;
    }
    return im->saveAlphaFlag ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB;
}

/* A PNG as libpng's simplified reader gives it (8-bit RGBA rows, as a
 * browser would see it); NULL when it cannot be read. */
static unsigned char *rgba_of(apr_pool_t *p, const void *png, apr_size_t len, apr_size_t *psize)
{
    png_image img;
    unsigned char *buf;

    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, png, len)) {
        return NULL;
    }
    img.format = PNG_FORMAT_RGBA;
    *psize = PNG_IMAGE_SIZE(img);
    buf = apr_palloc(p, *psize);
    if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        png_image_free(&img);
        return NULL;
    }
    return buf;
}

/* Encodes im (whole, at level), then checks: the form chosen; libgd reads
 * back exactly im's pixels as written; and libgd's own writer gives a PNG
 * that libgd and libpng's simplified reader read as the same pixels. */
static void check_encoder(apr_pool_t *p, gdImagePtr im, int level, const char *what)
{
    const void *png = NULL;
    apr_size_t len = 0, n1 = 0, n2 = 0;
    gdImagePtr back = NULL, gdback = NULL;
    unsigned char *ours, *theirs;
    int size = 0, x, y, diff = 0, want = expected_type(im);
    void *gdpng;

    if (!ok(cnca_image_encode_png(&png, &len, p, im, level) == APR_SUCCESS && png && len > 0,
            apr_psprintf(p, "%s (%dx%d, level %d): encoded", what, gdImageSX(im), gdImageSY(im),
                         level))) {
        return;
    }
    is_int(color_type_of(png, len), want, apr_psprintf(p, "  %s: colour type %d", what, want));
    back = gdImageCreateFromPngPtr((int)len, (void *)png);
    if (!ok(back && gdImagePaletteToTrueColor(back) && gdImageSX(back) == gdImageSX(im) &&
                gdImageSY(back) == gdImageSY(im),
            apr_psprintf(p, "  %s: libgd reads it at its size", what))) {
        goto leave;
    }
    for (y = 0; y < gdImageSY(im); ++y) {
        for (x = 0; x < gdImageSX(im); ++x) {
            diff += back->tpixels[y][x] != as_written(im, im->tpixels[y][x]);
        }
    }
    is_int(diff, 0, apr_psprintf(p, "  %s: libgd reads back every pixel as given", what));
    gdpng = gdImagePngPtr(im, &size);
    gdback = gdpng ? gdImageCreateFromPngPtr(size, gdpng) : NULL;
    diff = !gdback || !gdImagePaletteToTrueColor(gdback)
               ? -1
               : pixels_differ(gdback, 0, 0, back, 0, 0, gdImageSX(im), gdImageSY(im));
    is_int(diff, 0, apr_psprintf(p, "  %s: the same as libgd's own PNG reads", what));
    ours = rgba_of(p, png, len, &n1);
    theirs = gdpng ? rgba_of(p, gdpng, (apr_size_t)size, &n2) : NULL;
    ok(ours && theirs && n1 == n2 && !memcmp(ours, theirs, n1),
       apr_psprintf(p, "  %s: libpng's reader sees the same RGBA as in libgd's PNG", what));
    if (gdpng) {
        gdFree(gdpng);
    }
leave:
    if (back) {
        gdImageDestroy(back);
    }
    if (gdback) {
        gdImageDestroy(gdback);
    }
}

/* Pixel patterns for the encoder. */
typedef enum { PAT_MANY, PAT_GREY, PAT_CANVAS, PAT_OPAQUE } pattern_t;

static gdImagePtr patterned(int w, int h, pattern_t pat, unsigned seed)
{
    gdImagePtr im = gdImageCreateTrueColor(w, h);
    int x, y;

    lcg_state = seed;
    gdImageSaveAlpha(im, 1);
    for (y = 0; y < h; ++y) {
        for (x = 0; x < w; ++x) {
            int r = (int)(lcg() & 255), g = (int)(lcg() & 255), b = (int)(lcg() & 255);
            int k = (int)(lcg() % 8), a = k == 0 ? 0 : k == 1 ? 127 : (int)(lcg() % 128);
            int c;
            switch (pat) {
                case PAT_GREY:
                    c = gdTrueColorAlpha(r, r, r, a);
                    break;
                case PAT_CANVAS: /* clear white and black, black ink at a few alphas,
                                  * clear grey: every pixel grey */
                    c = k < 4    ? CNCA_IMAGE_CLEAR
                        : k == 4 ? gdTrueColorAlpha(0, 0, 0, 127)
                        : k == 5 ? gdTrueColorAlpha(40, 40, 40, 127)
                                 : gdTrueColorAlpha(0, 0, 0, (int)(lcg() % 12) * 10);
                    break;
                case PAT_OPAQUE:
                    c = gdTrueColor(r, g, b);
                    break;
                default:
                    c = gdTrueColorAlpha(r, g, b, a);
                    break;
            }
            im->tpixels[y][x] = c;
        }
    }
    return im;
}

static void test_png_encode(void)
{
    apr_pool_t *p = tap_pool();
    static const int sizes[][2] = {{1, 1}, {1, 300}, {300, 1}, {801, 3}, {64, 48}};
    static const char *names[] = {"many colours, every alpha", "grey, every alpha", "a canvas",
                                  "opaque colours"};
    gdImagePtr im;
    unsigned i;
    int pat;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
        for (pat = PAT_MANY; pat <= PAT_OPAQUE; ++pat) {
            im = patterned(sizes[i][0], sizes[i][1], (pattern_t)pat, 7 + i);
            check_encoder(p, im, -1, names[pat]);
            gdImageDestroy(im);
        }
    }
    im = patterned(64, 48, PAT_MANY, 3);
    check_encoder(p, im, 6, "many colours");
    gdImageSaveAlpha(im, 0);
    check_encoder(p, im, -1, "many colours, alpha not saved (opaque RGB)");
    gdImageColorTransparent(im, im->tpixels[5][5] & 0xffffff);
    check_encoder(p, im, 1, "opaque RGB with a transparent colour");
    gdImageDestroy(im);
    im = patterned(801, 3, PAT_GREY, 4);
    gdImageSaveAlpha(im, 0);
    check_encoder(p, im, -1, "grey, alpha not saved (opaque grey)");
    gdImageColorTransparent(im, im->tpixels[1][7] & 0xffffff);
    check_encoder(p, im, -1, "opaque grey with a transparent grey");
    gdImageDestroy(im);
    im = patterned(64, 48, PAT_CANVAS, 5);
    check_encoder(p, im, 9, "a canvas");
    gdImageDestroy(im);

    /* grey but for one pixel's green (in the four-at-a-time part
     * of a row, and at its end) */
    im = patterned(801, 3, PAT_CANVAS, 6);
    im->tpixels[1][401] = gdTrueColorAlpha(77, 78, 77, 5);
    check_encoder(p, im, -1, "grey but one green");
    im->tpixels[1][401] = CNCA_IMAGE_CLEAR;
    im->tpixels[2][800] = gdTrueColorAlpha(77, 76, 77, 127);
    check_encoder(p, im, -1, "grey but one (clear) green at a row's end");
    gdImageDestroy(im);
}

static void test_png_encode_part(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = patterned(40, 30, PAT_CANVAS, 9), back;
    cnca_image_box_t box = {7, 5, 21, 13}, bad[] = {{0, 0, 0, 5},
                                                    {-1, 0, 5, 5},
                                                    {30, 0, 11, 5},
                                                    {0, 20, 5, 11},
                                                    {0, 0, 41, 1}};
    const void *png;
    apr_size_t len;
    unsigned i;

    ok(cnca_image_encode_png_part(&png, &len, p, im, &box, -1) == APR_SUCCESS, "a part encoded");
    back = gdImageCreateFromPngPtr((int)len, (void *)png);
    if (ok(back && gdImagePaletteToTrueColor(back) && gdImageSX(back) == 21 &&
               gdImageSY(back) == 13,
           "  21x13")) {
        is_int(pixels_differ(back, 0, 0, im, box.x, box.y, box.w, box.h), 0,
               "  the pixels of the box");
        gdImageDestroy(back);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        log_seen[0] = '\0';
        png = (const void *)1;
        ok(cnca_image_encode_png_part(&png, &len, p, im, &bad[i], -1) == APR_EINVAL && !png &&
               len == 0 && logged("CNCA00407"),
           apr_psprintf(p, "box %d,%d %dx%d outside: refused", bad[i].x, bad[i].y, bad[i].w,
                        bad[i].h));
    }
    gdImageDestroy(im);

    /* nothing here draws a palette image: refused, not written */
    im = gdImageCreate(5, 4);
    gdImageColorAllocate(im, 10, 20, 30);
    log_seen[0] = '\0';
    png = (const void *)1;
    len = 1;
    ok(cnca_image_encode_png(&png, &len, p, im, -1) == APR_EINVAL && !png && len == 0 &&
           logged("CNCA00407"),
       "a palette image: refused");
    gdImageDestroy(im);
}

/* ---- decoding ---- */

typedef struct {
    apr_pool_t *p;
    unsigned char *b;
    apr_size_t len, cap;
} sink_t;

static void sink_write(png_structp png, png_bytep data, png_size_t n)
{
    sink_t *s = png_get_io_ptr(png);
    if (s->len + n > s->cap) {
        unsigned char *grown;
        s->cap = (s->len + n) * 2;
        grown = apr_palloc(s->p, s->cap);
        if (s->len) {
            memcpy(grown, s->b, s->len);
        }
        s->b = grown;
    }
    memcpy(s->b + s->len, data, n);
    s->len += n;
}

static void sink_flush(png_structp png)
{
    (void)png;
}

/* A w x h PNG written with libpng itself, of any colour type and bit
 * depth, Adam7 when interlaced, with tRNS when trns; samples from the lcg
 * (with runs), palette images with npal colours. */
static blob_t libpng_of(apr_pool_t *p, int w, int h, int ct, int depth, int interlaced, int trns)
{
    int channels = ct == 2 ? 3 : ct == 4 ? 2 : ct == 6 ? 4 : 1, bytes = depth == 16 ? 2 : 1;
    int npal = depth == 8 ? 200 : 1 << depth, y, k;
    apr_size_t stride = (apr_size_t)w * channels * bytes;
    png_bytep *rows = apr_palloc(p, sizeof(png_bytep) * h);
    sink_t sink = {p, NULL, 0, 0};
    blob_t out = {NULL, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;

    lcg_state = (unsigned)(ct * 100 + depth * 10 + interlaced + trns * 1000);
    for (y = 0; y < h; ++y) {
        rows[y] = apr_palloc(p, stride);
        for (k = 0; k < (int)stride; ++k) {
            unsigned v = lcg();
            if (k >= channels * bytes && v % 4 == 0) { /* a run: the previous pixel's byte */
                rows[y][k] = rows[y][k - channels * bytes];
            } else if (depth < 8) {
                rows[y][k] = (png_byte)(v % (unsigned)(ct == 3 ? npal : 1 << depth));
            } else if (ct == 3) {
                rows[y][k] = (png_byte)(v % (unsigned)npal);
            } else {
                rows[y][k] = (png_byte)(v >> 3);
            }
        }
    }
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return out;
    }
    png_set_write_fn(png, &sink, sink_write, sink_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ct,
                 interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (ct == 3) {
        png_color pal[256];
        png_byte alpha[256];
        for (k = 0; k < npal; ++k) {
            pal[k].red = (png_byte)(k * 7), pal[k].green = (png_byte)(255 - k),
            pal[k].blue = (png_byte)(k * 13);
            alpha[k] = (png_byte)(k == 1 || k == 3 ? 0 : (k * 37 + 11) & 255); /* first zero at 1 */
        }
        png_set_PLTE(png, info, pal, npal);
        if (trns) {
            png_set_tRNS(png, info, alpha, npal > 2 ? npal / 2 + 1 : npal, NULL);
        }
    } else if (trns && (ct == 0 || ct == 2)) {
        png_color_16 t;
        memset(&t, 0, sizeof(t));
        if (depth == 16) { /* a pixel's value, so that some are transparent */
            t.gray = t.red = (png_uint_16)(rows[0][0] << 8 | rows[0][1]);
            t.green = (png_uint_16)(ct == 2 ? rows[0][2] << 8 | rows[0][3] : 0);
            t.blue = (png_uint_16)(ct == 2 ? rows[0][4] << 8 | rows[0][5] : 0);
        } else {
            t.gray = t.red = rows[0][0];
            t.green = ct == 2 ? rows[0][1] : 0;
            t.blue = ct == 2 ? rows[0][2] : 0;
        }
        png_set_tRNS(png, info, NULL, 0, &t);
    }
    png_write_info(png, info);
    if (depth < 8) {
        png_set_packing(png);
    }
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    out.data = sink.b;
    out.len = sink.len;
    return out;
}

/* cnca_image_decode gives the pixels (and transparent colour) libgd gives. */
static void check_decoder(apr_pool_t *p, blob_t png, const char *what)
{
    gdImagePtr want = png.len ? gdImageCreateFromPngPtr((int)png.len, (void *)png.data) : NULL;
    gdImagePtr got = NULL;
    const char *code, *msg;

    if (!ok(want && gdImagePaletteToTrueColor(want),
            apr_pstrcat(p, what, ": libgd reads it", NULL)) ||
        !ok(cnca_image_decode(&got, &code, &msg, p, png.data, png.len, NULL, 1) == APR_SUCCESS,
            apr_pstrcat(p, "  ", what, ": decoded", NULL))) {
        goto leave;
    }
    if (!ok(gdImageSX(got) == gdImageSX(want) && gdImageSY(got) == gdImageSY(want) &&
                gdImageTrueColor(got),
            apr_pstrcat(p, "  ", what, ": truecolor at its size", NULL))) {
        goto leave;
    }
    is_int(pixels_differ(got, 0, 0, want, 0, 0, gdImageSX(want), gdImageSY(want)), 0,
           apr_pstrcat(p, "  ", what, ": every pixel as libgd reads it", NULL));
    ok(got->transparent == want->transparent && got->saveAlphaFlag == want->saveAlphaFlag &&
           got->alphaBlendingFlag == want->alphaBlendingFlag,
       apr_pstrcat(p, "  ", what, ": transparent colour and flags as libgd sets them", NULL));
leave:
    if (want) {
        gdImageDestroy(want);
    }
    if (got) {
        gdImageDestroy(got);
    }
}

static void test_png_decode(void)
{
    apr_pool_t *p = tap_pool();
    static const struct {
        int ct, depth;
    } kinds[] = {{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1},
                 {3, 2}, {3, 4}, {3, 8}, {4, 8}, {4, 16}, {6, 8}, {6, 16}};
    static const char *ct_names[] = {"grey", "?", "RGB", "palette", "grey+alpha", "?", "RGBA"};
    unsigned i;
    int interlaced, trns;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); ++i) {
        for (interlaced = 0; interlaced <= 1; ++interlaced) {
            for (trns = 0; trns <= (kinds[i].ct == 4 || kinds[i].ct == 6 ? 0 : 1); ++trns) {
                blob_t png = libpng_of(p, 13, 7, kinds[i].ct, kinds[i].depth, interlaced, trns);
                check_decoder(p, png,
                              apr_psprintf(p, "PNG %s %d-bit%s%s", ct_names[kinds[i].ct],
                                           kinds[i].depth, interlaced ? " interlaced" : "",
                                           trns ? " with tRNS" : ""));
            }
        }
    }
    check_decoder(p, libpng_of(p, 1, 1, 6, 8, 1, 0), "PNG RGBA 1x1 interlaced");
    check_decoder(p, libpng_of(p, 801, 3, 3, 8, 0, 1), "PNG palette 801x3");
    check_decoder(p, libpng_of(p, 1, 300, 4, 8, 1, 0), "PNG grey+alpha 1x300 interlaced");
}

/* Corrupt and cut-short PNGs are refused as libgd refused them, with
 * nothing left allocated. */
static void test_png_corrupt(void)
{
    apr_pool_t *p = tap_pool();
    gdImagePtr im = canvas(120, 60, CLEAR);
    blob_t good, bad[8];
    const char *names[8] = {"cut after IHDR",    "cut inside IDAT",
                            "cut before IEND",   "cut a byte short",
                            "IDAT byte flipped", "zlib header broken (CRC fixed)",
                            "IDAT renamed",      "IHDR depth 3 (CRC fixed)"};
    apr_size_t idat, n;
    unsigned char *b;
    int i, round, refused_all = 1;
#ifdef HAVE_MALLINFO2
    size_t before = 0;
#endif

    scribble(im, 10, 10, 100, 40, 4, BLACK);
    good = png_of(p, im);
    gdImageDestroy(im);
    idat = chunk_at(good.data, good.len, "IDAT");
    n = get32(good.data + idat);
    for (i = 0; i < 8; ++i) {
        bad[i].data = b = apr_pmemdup(p, good.data, good.len);
        bad[i].len = good.len;
    }
    bad[0].len = 33;
    bad[1].len = idat + 8 + n / 2;
    bad[2].len = good.len - 12;
    bad[3].len = good.len - 1;
    ((unsigned char *)bad[4].data)[idat + 8 + n / 2] ^= 0x5a;
    b = (unsigned char *)bad[5].data;
    b[idat + 8] = 0x7f; /* CMF: not deflate */
    chunk_crc_fix(b, idat);
    memcpy((unsigned char *)bad[6].data + idat + 4, "IDAX", 4);
    b = (unsigned char *)bad[7].data;
    b[24] = 3;
    chunk_crc_fix(b, 8); /* IHDR */

    for (round = 0; round < (RUNNING_ON_VALGRIND ? 1 : 3); ++round) {
#ifdef HAVE_MALLINFO2
        if (round == 1) {
            before = mallinfo2().uordblks;
        }
#endif
        for (i = 0; i < 8; ++i) {
            apr_pool_t *q = tap_pool();
            gdImagePtr got = NULL,
                       gd = gdImageCreateFromPngPtr((int)bad[i].len, (void *)bad[i].data);
            const char *code = NULL, *msg = NULL;
            apr_status_t rv;

            log_seen[0] = '\0';
            rv = cnca_image_decode(&got, &code, &msg, q, bad[i].data, bad[i].len, NULL, 1);
            if (round == 0) {
                is_int(rv, APR_EINVAL,
                       apr_pstrcat(q, "corrupt PNG, ", names[i], ": refused", NULL));
                is_str(code, CNCA_IMAGE_NOT_AN_IMAGE, "  not_an_image");
                ok(!got && gd == NULL, "  as libgd refused it");
                ok(logged(i == 7 ? "CNCA00401" : "CNCA00404"), "  logged");
            }
            refused_all &= rv == APR_EINVAL && !got;
            if (gd) {
                gdImageDestroy(gd);
            }
            if (got) {
                gdImageDestroy(got);
            }
            apr_pool_destroy(q);
        }
    }
    ok(refused_all, "corrupt PNGs refused every time");
#ifdef HAVE_MALLINFO2
    if (!RUNNING_ON_VALGRIND) {
        size_t after = mallinfo2().uordblks;
        ok(after <= before, "  nothing left allocated by the refusals");
        if (after > before) {
            printf("#   %zu bytes more in use\n", after - before);
        }
    }
#endif

    /* the one difference from libgd, on purpose: zlib's Adler-32 of the
     * rows is not checked (the chunk's CRC-32 still is) */
    b = apr_pmemdup(p, good.data, good.len);
    b[idat + 8 + n - 1] ^= 0x01;
    chunk_crc_fix(b, idat);
    {
        gdImagePtr got = NULL, gd = gdImageCreateFromPngPtr((int)good.len, b);
        const char *code, *msg;
        ok(cnca_image_decode(&got, &code, &msg, p, b, good.len, NULL, 1) == APR_SUCCESS && !gd,
           "only the Adler-32 wrong (CRC-32 right): read, where libgd refuses");
        if (got) {
            gdImageDestroy(got);
        }
        if (gd) {
            gdImageDestroy(gd);
        }
    }
}

/* The RGBA decoder (lodepng + libdeflate): the bytes libpng reads, only
 * for 8-bit RGBA; what it refuses goes to libpng (cnca_image_png_decode
 * says so in a debug line), so what is read stays what libpng reads. */
static void test_png_lodepng(void)
{
    apr_pool_t *p = tap_pool();
    /* 8x600 interlaced: its reduced images have 7/8 more filter bytes than
     * its rows */
    static const int sizes[][3] = {{1, 1, 0},   {37, 29, 0}, {37, 29, 1},
                                   {801, 3, 1}, {3, 300, 0}, {8, 600, 1}};
    blob_t png, bomb;
    unsigned char *rgba = NULL, *b;
    unsigned w, h;
    const char *err;
    apr_size_t i, idat, n;
    gdImagePtr got = NULL;
    const char *code, *msg;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
        png_image img;
        unsigned char *want;
        const char *what = apr_psprintf(p, "RGBA %dx%d%s", sizes[i][0], sizes[i][1],
                                        sizes[i][2] ? " interlaced" : "");

        png = libpng_of(p, sizes[i][0], sizes[i][1], 6, 8, sizes[i][2], 0);
        memset(&img, 0, sizeof(img));
        img.version = PNG_IMAGE_VERSION;
        png_image_begin_read_from_memory(&img, png.data, png.len);
        img.format = PNG_FORMAT_RGBA;
        want = apr_palloc(p, PNG_IMAGE_SIZE(img));
        png_image_finish_read(&img, NULL, want, 0, NULL);
        is_int(cnca_image_lodepng_fits(png.data, png.len), 1,
               apr_pstrcat(p, what, ": taken", NULL));
        if (ok(cnca_image_lodepng_rgba8(&rgba, &w, &h, png.data, png.len, &err) == 0,
               apr_pstrcat(p, "  ", what, ": decoded", NULL))) {
            ok(w == (unsigned)sizes[i][0] && h == (unsigned)sizes[i][1] &&
                   !memcmp(rgba, want, (apr_size_t)w * h * 4),
               apr_pstrcat(p, "  ", what, ": the bytes libpng reads", NULL));
        }
        free(rgba);
        rgba = NULL;
        log_seen[0] = '\0';
        ok(cnca_image_decode(&got, &code, &msg, p, png.data, png.len, NULL, 1) == APR_SUCCESS &&
               !logged("CNCA00414"),
           apr_pstrcat(p, "  ", what, ": cnca_image_decode reads it without libpng", NULL));
        if (got) {
            gdImageDestroy(got);
            got = NULL;
        }
    }

    /* other kinds are libpng's */
    {
        static const int kinds[][2] = {{6, 16}, {2, 8}, {4, 8}, {3, 8}, {0, 8}};
        for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); ++i) {
            png = libpng_of(p, 9, 7, kinds[i][0], kinds[i][1], 0, 0);
            ok(!cnca_image_lodepng_fits(png.data, png.len) &&
                   cnca_image_lodepng_rgba8(&rgba, &w, &h, png.data, png.len, &err) != 0 && !rgba &&
                   !strcmp(err, "not an 8-bit RGBA PNG of at most CNCA_LODEPNG_MAX_PIXELS pixels"),
               apr_psprintf(p, "colour type %d depth %d: not taken", kinds[i][0], kinds[i][1]));
        }
    }
    ok(!cnca_image_lodepng_fits((const unsigned char *)"\x89PNG", 4), "4 bytes: not taken");

    /* large images keep libpng's row-at-a-time memory: the header decides,
     * before anything is allocated */
    {
        unsigned char *hdr;
        png = libpng_of(p, 8, 8, 6, 8, 0, 0);
        hdr = apr_pmemdup(p, png.data, png.len);
        put32(hdr + 16, 1024), put32(hdr + 20, 1024);
        ok(cnca_image_lodepng_fits(hdr, png.len), "RGBA 1024x1024 (by its header): taken");
        put32(hdr + 20, 1025);
        ok(!cnca_image_lodepng_fits(hdr, png.len), "RGBA 1024x1025: not taken, libpng's");
        put32(hdr + 16, 0xffffffffu), put32(hdr + 20, 0xffffffffu);
        ok(!cnca_image_lodepng_fits(hdr, png.len), "RGBA 4294967295 squared: not taken");
    }

    /* a wrong Adler-32: libdeflate refuses, libpng reads it (as before) */
    png = libpng_of(p, 40, 20, 6, 8, 0, 0);
    idat = chunk_at(png.data, png.len, "IDAT");
    n = get32(png.data + idat);
    b = apr_pmemdup(p, png.data, png.len);
    b[idat + 8 + n - 1] ^= 0x01;
    chunk_crc_fix(b, idat);
    ok(cnca_image_lodepng_rgba8(&rgba, &w, &h, b, png.len, &err) != 0 && !rgba,
       "wrong Adler-32: lodepng + libdeflate refuse");
    log_seen[0] = '\0';
    ok(cnca_image_decode(&got, &code, &msg, p, b, png.len, NULL, 1) == APR_SUCCESS &&
           logged("CNCA00414: lodepng: "),
       "  cnca_image_decode reads it through libpng, saying so in a debug line");
    if (got) {
        gdImageDestroy(got);
        got = NULL;
    }
    b = apr_pmemdup(p, png.data, png.len);
    b[idat + 8 + n / 2] ^= 0x5a; /* the chunk's CRC now wrong */
    ok(cnca_image_lodepng_rgba8(&rgba, &w, &h, b, png.len, &err) != 0 && !rgba,
       "wrong CRC-32: refused");
    ok(cnca_image_lodepng_rgba8(&rgba, &w, &h, png.data, idat + 8 + n / 2, &err) != 0 && !rgba,
       "cut inside IDAT: refused");

    /* image data inflating to far more than its rows: refused by the
     * inflate hook, not inflated into memory */
    {
        apr_size_t big = 4u << 20, zlen = compressBound(big);
        unsigned char *zeros = calloc(1, big), *z = apr_palloc(p, zlen);
        uLongf zl = zlen;
        unsigned char *f;
        apr_size_t head = idat, tail = png.len - (idat + 12 + n);

        ok(zeros && compress2(z, &zl, zeros, big, 9) == Z_OK, "a 4 MB zlib stream of zeros");
        free(zeros);
        bomb.len = head + 12 + zl + tail;
        bomb.data = f = apr_palloc(p, bomb.len);
        memcpy(f, png.data, head);
        put32(f + head, (apr_uint32_t)zl);
        memcpy(f + head + 4, "IDAT", 4);
        memcpy(f + head + 8, z, zl);
        chunk_crc_fix(f, head);
        memcpy(f + head + 12 + zl, png.data + idat + 12 + n, tail);
        ok(cnca_image_lodepng_rgba8(&rgba, &w, &h, bomb.data, bomb.len, &err) != 0 && !rgba,
           "  40x20 whose data inflates to 4 MB: refused");
    }

    /* an iCCP chunk, inflated through the same hook: a profile larger than
     * the image data is read; one that inflates to more than lodepng may
     * hold is refused uninflated and the file is libpng's */
    {
        static const apr_size_t profiles[] = {3000, 1u << 20};
        for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); ++i) {
            apr_size_t plen = profiles[i], zlen = compressBound(plen);
            unsigned char *prof = calloc(1, plen), *f;
            uLongf zl = zlen;
            apr_size_t clen;

            png = libpng_of(p, 8, 8, 6, 8, 0, 0);
            f = apr_palloc(p, png.len + 12 + 5 + zlen);
            ok(prof && compress2(f + 33 + 8 + 5, &zl, prof, plen, 9) == Z_OK,
               apr_psprintf(p, "an iCCP profile of %" APR_SIZE_T_FMT " bytes", plen));
            free(prof);
            clen = 5 + zl; /* "icc" NUL, compression method 0, zlib */
            memcpy(f, png.data, 33);
            put32(f + 33, (apr_uint32_t)clen);
            memcpy(f + 37, "iCCPicc\0\0", 9);
            chunk_crc_fix(f, 33);
            memcpy(f + 45 + clen, png.data + 33, png.len - 33);
            n = png.len + 12 + clen;
            if (i == 0) {
                unsigned char *plain = NULL;
                ok(cnca_image_lodepng_rgba8(&plain, &w, &h, png.data, png.len, &err) == 0 &&
                       cnca_image_lodepng_rgba8(&rgba, &w, &h, f, n, &err) == 0 && w == 8 &&
                       h == 8 && !memcmp(rgba, plain, 8 * 8 * 4),
                   "  8x8 with it: decoded, the pixels of the file without it");
                free(plain);
            } else {
                ok(cnca_image_lodepng_rgba8(&rgba, &w, &h, f, n, &err) != 0 && !rgba,
                   "  8x8 with it: refused");
            }
            free(rgba);
            rgba = NULL;
            log_seen[0] = '\0';
            ok(cnca_image_decode(&got, &code, &msg, p, f, n, NULL, 1) == APR_SUCCESS &&
                   !logged("CNCA00414") == (i == 0),
               i == 0 ? "  cnca_image_decode reads it without libpng"
                      : "  cnca_image_decode reads it through libpng");
            if (got) {
                gdImageDestroy(got);
                got = NULL;
            }
        }
    }
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
    test_handwrite_exact();
    test_no_ink();
    test_upload();
    test_scale();
    test_photo();
    test_orientation();
    test_scan_limit();
    test_mangled();
    test_png_encode();
    test_png_encode_part();
    test_png_decode();
    test_png_corrupt();
    test_png_lodepng();

    cnca_image_terminate();
    return tap_done();
}
