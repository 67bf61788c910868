/* PNG through libpng directly (and a canvas's 8-bit RGBA through lodepng
 * + libdeflate, cnca_image_lodepng.h). Decoding gives a libgd truecolor
 * image with exactly the pixels gdImageCreateFromPngPtr +
 * gdImagePaletteToTrueColor would give, without libgd's copy of the whole
 * image. Encoding writes the
 * pixels libgd would write, as grey + alpha when every pixel is grey (a
 * canvas signature: half the bytes to filter and compress), else RGBA,
 * with one cheap filter: libgd leaves no say in libpng's filter choice,
 * and trying all five filters on every row was most of a signature's time.
 *
 * (A palette would be smaller still for a signature, but libgd reads a
 * palette PNG as a palette image: whoever reads the kept signature with
 * libgd would get indices where it expects colours.)
 *
 * libpng's and zlib's own memory comes from the caller's pool (per-request
 * pools are recycled by their allocator, where a few hundred kB of malloc
 * per request went back to the kernel and faulted in again each time).
 * libpng reports errors by longjmp: each function keeps what it must free
 * in a struct that lives in its caller's frame, so nothing is lost on the
 * jump, and frees it on every path. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

#include <apr.h>
#include <apr_strings.h>

#include "cnca_image_gd.h"
#include "cnca_image_lodepng.h"
#include "cnca_log.h"

#if defined(__GNUC__)
/* Four pixels at a time where the compiler offers vectors (GCC, Clang). */
typedef apr_uint32_t v4u __attribute__((vector_size(16)));
#endif

/* ---- libpng's messages and memory ---- */

/* An error in the file (or out of memory): a debug line (the caller logs
 * the refusal), then back to the setjmp. */
static void on_error(png_structp png, png_const_charp msg)
{
    cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_DEBUG, APR_EGENERAL, "CNCA00412: libpng: %s",
                    msg ? msg : "error");
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_DEBUG, APR_SUCCESS, "CNCA00413: libpng warning: %s",
                    msg ? msg : "");
}

/* libpng's (and through it zlib's) allocations, from the pool given as
 * libpng's mem_ptr; freed with the pool. */
static png_voidp pool_malloc(png_structp png, png_alloc_size_t size)
{
    return apr_palloc(png_get_mem_ptr(png), size);
}

static void pool_free(png_structp png, png_voidp mem)
{
    (void)png, (void)mem;
}

/* ---- decoding ---- */

/* How a row comes out of libpng after the transformations below. */
typedef enum { ROW_INDEX, ROW_RGB, ROW_RGBA } row_kind_t;

typedef struct {
    const unsigned char *data;
    apr_size_t len, pos;
    apr_pool_t *pool; /* for libpng's memory; NULL: malloc */
    png_structp png;
    png_infop info;
    gdImagePtr im;
    row_kind_t kind;
    int table[256]; /* ROW_INDEX: gd colour of each palette index or grey level */
    int nomem;
} png_reader_t;

static void read_data(png_structp png, png_bytep out, png_size_t n)
{
    png_reader_t *r = png_get_io_ptr(png);

    if (n > r->len - r->pos) {
        png_error(png, "Read Error: truncated data");
    }
    memcpy(out, r->data + r->pos, n);
    r->pos += n;
}

/* Ancillary chunks that cannot change a pixel as decoded here: skipped
 * unread (no text or ICC profile is inflated). tRNS is kept. */
static const png_byte ignored_chunks[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0"
                                         "pCAL\0pHYs\0sBIT\0sCAL\0sPLT\0sRGB\0sTER\0tEXt\0"
                                         "tIME\0zTXt";

/* The colour table of a palette or grey image, as libgd builds its palette
 * image and then turns it truecolor: tRNS alpha halved into 7 bits, the
 * first fully transparent entry (or the grey level tRNS names) becoming
 * transparent black, indices past the palette opaque black. */
static void index_table(png_reader_t *r, int color_type, int bit_depth)
{
    png_structp png = r->png;
    png_infop info = r->info;
    unsigned char red[256], green[256], blue[256], alpha[256];
    int transparent = -1, i;

    memset(red, 0, sizeof(red));
    memset(green, 0, sizeof(green));
    memset(blue, 0, sizeof(blue));
    memset(alpha, 0, sizeof(alpha));
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        png_bytep trans = NULL;
        int n = 0, ntrans = 0;

        png_get_PLTE(png, info, &palette, &n);
        for (i = 0; i < n && i < 256; ++i) {
            red[i] = palette[i].red;
            green[i] = palette[i].green;
            blue[i] = palette[i].blue;
        }
        if (png_get_valid(png, info, PNG_INFO_tRNS)) {
            png_get_tRNS(png, info, &trans, &ntrans, NULL);
            for (i = 0; i < ntrans && i < 256; ++i) {
                alpha[i] = (unsigned char)(gdAlphaMax - (trans[i] >> 1));
                if (trans[i] == 0 && transparent < 0) {
                    transparent = i;
                }
            }
        }
    } else { /* grey: levels spread over 0..255 as libgd does */
        int levels = bit_depth < 8 ? 1 << bit_depth : 256;

        for (i = 0; i < levels; ++i) {
            red[i] = green[i] = blue[i] = (unsigned char)(255 * i / (levels - 1));
        }
        if (png_get_valid(png, info, PNG_INFO_tRNS)) {
            png_color_16p grey = NULL;
            png_get_tRNS(png, info, NULL, NULL, &grey);
            transparent = bit_depth == 16 ? grey->gray >> 8 : grey->gray;
            transparent = transparent < 256 ? transparent : -1;
        }
    }
    for (i = 0; i < 256; ++i) {
        r->table[i] = gdTrueColorAlpha(red[i], green[i], blue[i], alpha[i]);
    }
    /* as gdImagePaletteToTrueColor leaves it */
    r->im->alphaBlendingFlag = 0;
    r->im->saveAlphaFlag = 1;
    r->im->transparent = transparent >= 0 ? r->table[transparent] : -1;
    if (transparent >= 0) {
        r->table[transparent] = gdTrueColorAlpha(0, 0, 0, gdAlphaTransparent);
    }
}

/* A row of 8-bit RGBA (255 opaque) made libgd's colours with 7-bit alpha (0
 * opaque): what a canvas sends. src may be dst itself (libpng's row, in
 * place): each pixel is read before it is written. */
static void rgba_to_gd(int *dst, const unsigned char *src, int w)
{
    int x = 0;
#if defined(__GNUC__) && !APR_IS_BIGENDIAN
    for (; x + 4 <= w; x += 4) { /* bytes R G B A: A << 24 | B << 16 | G << 8 | R */
        v4u v;
        memcpy(&v, src + 4 * x, sizeof(v));
        v = ((gdAlphaMax - (v >> 25)) << 24) | ((v & 0xff) << 16) | (v & 0xff00) |
            ((v >> 16) & 0xff);
        memcpy(dst + x, &v, sizeof(v));
    }
#endif
    for (; x < w; ++x) {
        const unsigned char *s = src + 4 * x;
        dst[x] = gdTrueColorAlpha(s[0], s[1], s[2], gdAlphaMax - (s[3] >> 1));
    }
}

/* The row as libpng left it in the first bytes of `row` made into gd
 * pixels in place: RGBA front to back (same size), the smaller kinds back
 * to front (each source pixel is read before its bytes are written). */
static void row_to_gd(png_reader_t *r, int *row, int w)
{
    const unsigned char *b = (const unsigned char *)row;
    int x;

    switch (r->kind) {
        case ROW_RGBA:
            rgba_to_gd(row, b, w);
            break;
        case ROW_RGB:
            for (x = w - 1; x >= 0; --x) {
                const unsigned char *s = b + 3 * x;
                row[x] = gdTrueColor(s[0], s[1], s[2]);
            }
            break;
        default:
            for (x = w - 1; x >= 0; --x) {
                row[x] = r->table[b[x]];
            }
            break;
    }
}

/* Everything that may longjmp; what it allocates is in *r. */
static apr_status_t read_png(png_reader_t *r)
{
    png_uint_32 w, h, y;
    int bit_depth, color_type, interlace, passes, pass;

    if (r->pool) {
        r->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, r, on_error, on_warning, r->pool,
                                          pool_malloc, pool_free);
    } else {
        r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, on_error, on_warning);
    }
    if (!r->png || !(r->info = png_create_info_struct(r->png))) {
        return APR_ENOMEM;
    }
    if (setjmp(png_jmpbuf(r->png))) {
        return r->nomem ? APR_ENOMEM : APR_EINVAL;
    }
    png_set_read_fn(r->png, r, read_data);
#ifdef PNG_IGNORE_ADLER32
    /* zlib's Adler-32 of the inflated rows is a sixth of the decoding time
     * and adds nothing: every IDAT chunk's CRC-32 is still checked */
    png_set_option(r->png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
    png_set_keep_unknown_chunks(r->png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(r->png, PNG_HANDLE_CHUNK_NEVER, ignored_chunks,
                                (int)(sizeof(ignored_chunks) / 5));
    png_read_info(r->png, r->info);
    png_get_IHDR(r->png, r->info, &w, &h, &bit_depth, &color_type, &interlace, NULL, NULL);
    if (w > INT_MAX / 4 || h > INT_MAX / 4) {
        png_error(r->png, "dimensions out of range");
    }
    if (!(r->im = gdImageCreateTrueColor((int)w, (int)h))) {
        r->nomem = 1;
        png_error(r->png, "out of memory for the image");
    }
    if (bit_depth == 16) {
        png_set_strip_16(r->png);
    } else if (bit_depth < 8) {
        png_set_packing(r->png);
    }
    switch (color_type) {
        case PNG_COLOR_TYPE_PALETTE:
        case PNG_COLOR_TYPE_GRAY:
            r->kind = ROW_INDEX;
            index_table(r, color_type, bit_depth);
            break;
        case PNG_COLOR_TYPE_RGB:
            r->kind = ROW_RGB;
            if (png_get_valid(r->png, r->info, PNG_INFO_tRNS)) { /* kept aside, as libgd does */
                png_color_16p c = NULL;
                int shift = bit_depth == 16 ? 8 : 0;
                png_get_tRNS(r->png, r->info, NULL, NULL, &c);
                r->im->transparent =
                    gdTrueColor(c->red >> shift, c->green >> shift, c->blue >> shift);
            }
            break;
        case PNG_COLOR_TYPE_GRAY_ALPHA:
            png_set_gray_to_rgb(r->png);
            r->kind = ROW_RGBA;
            break;
        default:
            r->kind = ROW_RGBA;
            break;
    }
    r->im->interlace = interlace == PNG_INTERLACE_ADAM7;
    passes = png_set_interlace_handling(r->png);
    png_read_update_info(r->png, r->info);
    if (png_get_rowbytes(r->png, r->info) > (png_size_t)w * 4) {
        png_error(r->png, "unexpected row size");
    }
    /* rows go straight into the image's own rows, converted after the last
     * pass (libpng fills interlaced rows a pass at a time) */
    for (pass = 0; pass < passes; ++pass) {
        for (y = 0; y < h; ++y) {
            png_read_row(r->png, (png_bytep)r->im->tpixels[y], NULL);
            if (pass == passes - 1) {
                row_to_gd(r, r->im->tpixels[y], (int)w);
            }
        }
    }
    png_read_end(r->png, NULL);
    return APR_SUCCESS;
}

/* What a canvas sends, 8-bit RGBA, through lodepng + libdeflate
 * (cnca_image_lodepng.h): the same pixels at a third of the CPU. */
static apr_status_t decode_rgba8(gdImagePtr *pim, const unsigned char *data, apr_size_t len)
{
    unsigned char *rgba = NULL;
    unsigned w, h, y;
    const char *err;
    gdImagePtr im;

    if (cnca_image_lodepng_rgba8(&rgba, &w, &h, data, len, &err)) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_DEBUG, APR_EGENERAL,
                        "CNCA00414: lodepng: %s (libpng reads the file again)", err);
        return APR_EINVAL;
    }
    if (w > INT_MAX / 4 || h > INT_MAX / 4 || !(im = gdImageCreateTrueColor((int)w, (int)h))) {
        free(rgba);
        return APR_ENOMEM;
    }
    for (y = 0; y < h; ++y) {
        rgba_to_gd(im->tpixels[y], rgba + (apr_size_t)y * w * 4, (int)w);
    }
    im->interlace = data[28] == PNG_INTERLACE_ADAM7;
    free(rgba);
    *pim = im;
    return APR_SUCCESS;
}

apr_status_t cnca_image_png_decode(gdImagePtr *pim, apr_pool_t *p, const void *data, apr_size_t len)
{
    png_reader_t r;
    apr_status_t rv;

    *pim = NULL;
    /* a file lodepng refuses goes to libpng too: libpng has the last word
     * on what is a PNG, as it had before */
    if (cnca_image_lodepng_fits(data, len) && decode_rgba8(pim, data, len) == APR_SUCCESS) {
        return APR_SUCCESS;
    }
    memset(&r, 0, sizeof(r));
    r.data = data;
    r.len = len;
    /* libpng's and zlib's memory: freed before return */
    if (p && apr_pool_create(&r.pool, p) != APR_SUCCESS) {
        return APR_ENOMEM;
    }
    rv = read_png(&r);
    if (r.png) {
        png_destroy_read_struct(&r.png, r.info ? &r.info : NULL, NULL);
    }
    if (r.pool) {
        apr_pool_destroy(r.pool);
    }
    if (rv == APR_SUCCESS) {
        *pim = r.im;
    } else if (r.im) {
        gdImageDestroy(r.im);
    }
    return rv;
}

/* ---- encoding ---- */

typedef struct {
    gdImagePtr im;
    cnca_image_box_t box;
    int color_type, level;
    apr_pool_t *pool;
    png_structp png;
    png_infop info;
    unsigned char *buf; /* the PNG so far (malloc) */
    apr_size_t len, cap;
    unsigned char *row; /* one packed row */
    int nomem;
} png_writer_t;

/* Whether every pixel of the box has red == green == blue. */
static int all_grey(gdImagePtr im, const cnca_image_box_t *box)
{
    int x, y;

    for (y = 0; y < box->h; ++y) {
        const int *row = im->tpixels[box->y + y] + box->x;
        apr_uint32_t diff = 0;
        x = 0;
#if defined(__GNUC__)
        {
            v4u acc = {0, 0, 0, 0};
            for (; x + 4 <= box->w; x += 4) {
                v4u v;
                memcpy(&v, row + x, sizeof(v));
                acc |= ((v >> 16) ^ v) | ((v >> 8) ^ v);
            }
            diff = acc[0] | acc[1] | acc[2] | acc[3];
        }
#endif
        for (; x < box->w; ++x) {
            apr_uint32_t c = (apr_uint32_t)row[x];
            diff |= ((c >> 16) ^ c) | ((c >> 8) ^ c);
        }
        if (diff & 0xff) {
            return 0;
        }
    }
    return 1;
}

static void write_data(png_structp png, png_bytep data, png_size_t n)
{
    png_writer_t *wr = png_get_io_ptr(png);

    if (n > wr->cap - wr->len) {
        apr_size_t cap = wr->cap ? wr->cap : 8192;
        unsigned char *grown;
        while (cap - wr->len < n) {
            cap *= 2;
        }
        if (!(grown = realloc(wr->buf, cap))) {
            wr->nomem = 1;
            png_error(png, "out of memory for the PNG");
        }
        wr->buf = grown;
        wr->cap = cap;
    }
    memcpy(wr->buf + wr->len, data, n);
    wr->len += n;
}

static void flush_data(png_structp png)
{
    (void)png;
}

/* libgd's 7-bit alpha (0 opaque) as PNG's 8-bit one (255 opaque), the way
 * libgd writes it, so that libgd reads back the same value. */
#define ALPHA8(c) (255 - ((gdTrueColorGetAlpha(c) << 1) + (gdTrueColorGetAlpha(c) >> 6)))

/* Grey pixels as grey + alpha bytes. */
static void pack_grey_alpha(unsigned char *out, const int *row, int w)
{
    int x = 0;
#if defined(__GNUC__) && !APR_IS_BIGENDIAN
    typedef apr_uint16_t v4s __attribute__((vector_size(8)));

    for (; x + 4 <= w; x += 4) { /* each pixel the 16 bits alpha << 8 | grey */
        v4u v, a;
        v4s pair;
        memcpy(&v, row + x, sizeof(v));
        a = (v >> 24) & 0x7f;
        v = (v & 0xff) | ((255 - ((a << 1) + (a >> 6))) << 8);
        pair = __builtin_convertvector(v, v4s);
        memcpy(out + 2 * x, &pair, sizeof(pair));
    }
#endif
    for (; x < w; ++x) {
        out[2 * x] = (unsigned char)gdTrueColorGetBlue(row[x]);
        out[2 * x + 1] = (unsigned char)ALPHA8(row[x]);
    }
}

static void pack_row(unsigned char *out, const int *row, int w, int color_type)
{
    int x;

    switch (color_type) {
        case PNG_COLOR_TYPE_GRAY_ALPHA:
            pack_grey_alpha(out, row, w);
            break;
        case PNG_COLOR_TYPE_GRAY:
            for (x = 0; x < w; ++x) {
                out[x] = (unsigned char)gdTrueColorGetBlue(row[x]);
            }
            break;
        case PNG_COLOR_TYPE_RGB_ALPHA:
            for (x = 0; x < w; ++x) {
                out[4 * x] = (unsigned char)gdTrueColorGetRed(row[x]);
                out[4 * x + 1] = (unsigned char)gdTrueColorGetGreen(row[x]);
                out[4 * x + 2] = (unsigned char)gdTrueColorGetBlue(row[x]);
                out[4 * x + 3] = (unsigned char)ALPHA8(row[x]);
            }
            break;
        default:
            for (x = 0; x < w; ++x) {
                out[3 * x] = (unsigned char)gdTrueColorGetRed(row[x]);
                out[3 * x + 1] = (unsigned char)gdTrueColorGetGreen(row[x]);
                out[3 * x + 2] = (unsigned char)gdTrueColorGetBlue(row[x]);
            }
            break;
    }
}

/* Everything that may longjmp; what it allocates is in *wr. */
static apr_status_t write_png(png_writer_t *wr)
{
    gdImagePtr im = wr->im;
    int y;

    wr->png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, wr, on_error, on_warning, wr->pool,
                                        pool_malloc, pool_free);
    if (!wr->png || !(wr->info = png_create_info_struct(wr->png))) {
        return APR_ENOMEM;
    }
    if (setjmp(png_jmpbuf(wr->png))) {
        return wr->nomem ? APR_ENOMEM : APR_EGENERAL;
    }
    png_set_write_fn(wr->png, wr, write_data, flush_data);
    png_set_IHDR(wr->png, wr->info, (png_uint_32)wr->box.w, (png_uint_32)wr->box.h, 8,
                 wr->color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (wr->color_type == PNG_COLOR_TYPE_RGB && im->transparent >= 0) {
        png_color_16 t; /* as libgd: the colour that is clear */
        memset(&t, 0, sizeof(t));
        t.red = (png_uint_16)gdTrueColorGetRed(im->transparent);
        t.green = (png_uint_16)gdTrueColorGetGreen(im->transparent);
        t.blue = (png_uint_16)gdTrueColorGetBlue(im->transparent);
        png_set_tRNS(wr->png, wr->info, NULL, 0, &t);
    }
    /* Each pixel is a byte pattern (grey, alpha, ...) that only the
     * previous row's subtraction turns into runs of zeros; zlib's
     * run-length strategy is then about as small as its default at a third
     * of the time. */
    png_set_filter(wr->png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
    if (wr->level < 0) {
        png_set_compression_strategy(wr->png, Z_RLE);
    } else {
        png_set_compression_level(wr->png, wr->level > 9 ? 9 : wr->level);
    }
    png_write_info(wr->png, wr->info);
    wr->row = png_malloc(wr->png, (png_alloc_size_t)wr->box.w * 4);
    for (y = 0; y < wr->box.h; ++y) {
        pack_row(wr->row, im->tpixels[wr->box.y + y] + wr->box.x, wr->box.w, wr->color_type);
        png_write_row(wr->png, wr->row);
    }
    png_write_end(wr->png, wr->info);
    return APR_SUCCESS;
}

apr_status_t cnca_image_encode_png_part(const void **ppng, apr_size_t *plen, apr_pool_t *p,
                                        gdImagePtr im, const cnca_image_box_t *box, int level)
{
    png_writer_t wr;
    apr_status_t rv;

    *ppng = NULL;
    *plen = 0;
    memset(&wr, 0, sizeof(wr));
    if (box->x < 0 || box->y < 0 || box->w < 1 || box->h < 1 || box->x + box->w > gdImageSX(im) ||
        box->y + box->h > gdImageSY(im) || !gdImageTrueColor(im)) {
        rv = APR_EINVAL;
        goto leave;
    }
    /* libpng's and zlib's memory: freed before return */
    if ((rv = apr_pool_create(&wr.pool, p)) != APR_SUCCESS) {
        goto leave;
    }
    wr.im = im;
    wr.box = *box;
    wr.level = level;
    /* (libgd reads a grey PNG's tRNS as transparent pixels but an RGB one's
     * as a colour aside: opaque with a transparent colour stays RGB, as
     * libgd writes it) */
    if ((im->saveAlphaFlag || im->transparent < 0) && all_grey(im, box)) {
        wr.color_type = im->saveAlphaFlag ? PNG_COLOR_TYPE_GRAY_ALPHA : PNG_COLOR_TYPE_GRAY;
    } else {
        wr.color_type = im->saveAlphaFlag ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB;
    }
    if ((rv = write_png(&wr)) == APR_SUCCESS) {
        *ppng = apr_pmemdup(p, wr.buf, wr.len);
        *plen = wr.len;
    }
leave:
    if (wr.png) {
        png_destroy_write_struct(&wr.png, wr.info ? &wr.info : NULL);
    }
    if (wr.pool) {
        apr_pool_destroy(wr.pool);
    }
    free(wr.buf);
    if (rv != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00407: PNG encoding of %dx%d at (%d,%d) of a %dx%d image failed",
                        box->w, box->h, box->x, box->y, gdImageSX(im), gdImageSY(im));
    }
    return rv;
}

apr_status_t cnca_image_encode_png(const void **ppng, apr_size_t *plen, apr_pool_t *p,
                                   gdImagePtr im, int level)
{
    cnca_image_box_t all = {0, 0, gdImageSX(im), gdImageSY(im)};

    return cnca_image_encode_png_part(ppng, plen, p, im, &all, level);
}
