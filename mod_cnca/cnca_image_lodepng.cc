/* See cnca_image_lodepng.h. C++ only because Debian's liblodepng is built
 * as C++ (its symbols are C++ names); no exceptions, no standard library. */
#define LODEPNG_NO_COMPILE_CPP
#include <lodepng.h>

#include <libdeflate.h>

#include <stdlib.h>
#include <string.h>

#include "cnca_image_lodepng.h"

/* the image data may not inflate to more than this many times the size of
 * its rows without interlacing (interlacing adds a few filter bytes) */
#define INFLATE_SLACK 2

namespace
{

struct inflate_ctx {
    size_t rows; /* bytes of the filtered rows, not interlaced */
};

/* lodepng's zlib hook: libdeflate into a buffer sized from the header,
 * grown when interlacing needs a little more; lodepng free()s it. */
unsigned inflate_hook(unsigned char **out, size_t *outsize, const unsigned char *in, size_t insize,
                      const LodePNGDecompressSettings *settings)
{
    const inflate_ctx *ctx = static_cast<const inflate_ctx *>(settings->custom_context);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t cap = ctx->rows + 64, got = 0;
    enum libdeflate_result res = LIBDEFLATE_BAD_DATA;

    *out = NULL;
    *outsize = 0;
    if (!d) {
        return 83;
    }
    while (cap <= INFLATE_SLACK * ctx->rows + 64) {
        unsigned char *buf = static_cast<unsigned char *>(realloc(*out, cap));
        if (!buf) {
            res = LIBDEFLATE_BAD_DATA;
            break;
        }
        *out = buf;
        res = libdeflate_zlib_decompress(d, in, insize, buf, cap, &got);
        if (res != LIBDEFLATE_INSUFFICIENT_SPACE) {
            break;
        }
        cap *= 2;
    }
    libdeflate_free_decompressor(d);
    if (res != LIBDEFLATE_SUCCESS) {
        free(*out);
        *out = NULL;
        return 1;
    }
    *outsize = got;
    return 0;
}

} // namespace

extern "C" int cnca_image_lodepng_fits(const unsigned char *png, size_t len)
{
    /* signature, IHDR length and type, then width, height, depth, type */
    unsigned long long w, h;

    if (len < 29 || memcmp(png + 12, "IHDR", 4) || png[24] != 8 || png[25] != 6) {
        return 0;
    }
    w = (unsigned long long)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
    h = (unsigned long long)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
    return w * h <= CNCA_LODEPNG_MAX_PIXELS;
}

extern "C" unsigned cnca_image_lodepng_rgba8(unsigned char **prgba, unsigned *pw, unsigned *ph,
                                             const unsigned char *png, size_t len,
                                             const char **perr)
{
    LodePNGState state;
    inflate_ctx ctx;
    unsigned err, w = 0, h = 0;

    *prgba = NULL;
    *pw = *ph = 0;
    *perr = "";
    if (!cnca_image_lodepng_fits(png, len)) {
        *perr = "not an 8-bit RGBA PNG of at most CNCA_LODEPNG_MAX_PIXELS pixels";
        return 1;
    }
    lodepng_state_init(&state);
    if ((err = lodepng_inspect(&w, &h, &state, png, len)) == 0) {
        ctx.rows = (size_t)h * (1 + 4 * (size_t)w);
        state.decoder.zlibsettings.custom_zlib = inflate_hook;
        state.decoder.zlibsettings.custom_context = &ctx;
        state.decoder.read_text_chunks = 0;
        state.decoder.remember_unknown_chunks = 0;
        state.info_raw.colortype = LCT_RGBA;
        state.info_raw.bitdepth = 8;
        err = lodepng_decode(prgba, pw, ph, &state, png, len);
    }
    if (err) {
        free(*prgba);
        *prgba = NULL;
        *perr = lodepng_error_text(err);
    }
    lodepng_state_cleanup(&state);
    return err;
}
