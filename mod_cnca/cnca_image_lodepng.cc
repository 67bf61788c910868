/* See cnca_image_lodepng.h. C++ only because Debian's liblodepng is built
 * as C++ (its symbols are C++ names); no exceptions, no standard library. */
#define LODEPNG_NO_COMPILE_CPP
#include <lodepng.h>

#include <libdeflate.h>

#include <stdlib.h>
#include <string.h>

#include "cnca_image_lodepng.h"

/* the most an iCCP chunk's profile may inflate to (lodepng's own limit is
 * 16 MB, all of it allocated up front by the hook below); a canvas sends
 * none, and a file with a larger one is libpng's (which skips it) */
#define ICC_MAX (256 * 1024)

namespace
{

struct inflate_ctx {
    size_t idat; /* the exact size of the inflated image data */
};

/* The bytes the image data of an 8-bit RGBA w x h inflates to: a filter
 * byte and 4 w bytes per row, over the 7 reduced images when interlaced
 * (Adam7: up to 7/8 more filter bytes than rows). */
size_t idat_size(size_t w, size_t h, int interlaced)
{
    static const unsigned char x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1},
                               dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
    size_t n = 0;
    int i;

    if (!interlaced) {
        return h * (1 + 4 * w);
    }
    for (i = 0; i < 7; ++i) {
        size_t pw = (w + dx[i] - x0[i] - 1) / dx[i], ph = (h + dy[i] - y0[i] - 1) / dy[i];
        if (pw && ph) {
            n += ph * (1 + 4 * pw);
        }
    }
    return n;
}

/* lodepng's zlib hook: libdeflate into one buffer of the size the data must
 * inflate to (the image data: its exact size, which lodepng checks too; an
 * iCCP profile: settings->max_output_size), so that more is refused
 * without being inflated. lodepng free()s the buffer. */
unsigned inflate_hook(unsigned char **out, size_t *outsize, const unsigned char *in, size_t insize,
                      const LodePNGDecompressSettings *settings)
{
    const inflate_ctx *ctx = static_cast<const inflate_ctx *>(settings->custom_context);
    size_t cap = settings->max_output_size ? settings->max_output_size : ctx->idat, got = 0;
    struct libdeflate_decompressor *d = NULL;
    enum libdeflate_result res = LIBDEFLATE_BAD_DATA;

    *outsize = 0;
    if (!(*out = static_cast<unsigned char *>(malloc(cap ? cap : 1))) ||
        !(d = libdeflate_alloc_decompressor())) {
        free(*out);
        *out = NULL;
        return 83;
    }
    res = libdeflate_zlib_decompress(d, in, insize, *out, cap, &got);
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
        ctx.idat = idat_size(w, h, state.info_png.interlace_method == 1);
        state.decoder.zlibsettings.custom_zlib = inflate_hook;
        state.decoder.zlibsettings.custom_context = &ctx;
        state.decoder.read_text_chunks = 0;
        state.decoder.remember_unknown_chunks = 0;
        state.decoder.max_icc_size = ICC_MAX;
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
