/* libgd helpers shared by the image files (cnca_image.c, cnca_signature*.c,
 * cnca_captcha.c) and their unit tests. Not for the glue: it sees only
 * cnca_image.h and cnca_captcha.h. */
#ifndef CNCA_IMAGE_GD_H
#define CNCA_IMAGE_GD_H

#include <gd.h>

#include "cnca_image.h"

/* What the applicant reads when the failure is ours (manual 6.7). */
#define CNCA_IMAGE_MSG_INTERNAL "系统异常，请稍后重试！"

/* A fully transparent pixel (white, for viewers that ignore alpha). */
#define CNCA_IMAGE_CLEAR gdTrueColorAlpha(255, 255, 255, gdAlphaTransparent)

/* A rectangle inside an image. */
typedef struct {
    int x, y, w, h;
} cnca_image_box_t;

/* The limits with zero fields replaced by the defaults (limits may be NULL). */
cnca_image_limits_t cnca_image_limits_effective(const cnca_image_limits_t *limits);

/* Byte limit, header inspection, pixel limit, JPEG scan limit, then decode.
 * On success *pim is a truecolor image (the caller gdImageDestroy()s it),
 * turned upright by the JPEG Exif orientation when `upright`. On failure
 * *pcode and *pmsg as for cnca_signature_normalize; with p NULL the
 * messages do not name the limits. */
apr_status_t cnca_image_decode(gdImagePtr *pim, const char **pcode, const char **pmsg,
                               apr_pool_t *p, const void *data, apr_size_t len,
                               const cnca_image_limits_t *limits, int upright);

/* A new truecolor image: src turned by Exif orientation 2..8 (NULL when
 * out of memory; for 1, a copy). */
gdImagePtr cnca_image_orient(gdImagePtr src, int orientation);

/* A new truecolor image with alpha holding box of src, scaled down (area
 * averaging, alpha weighted) to fit max_w x max_h; NULL when out of memory. */
gdImagePtr cnca_image_fit(gdImagePtr src, const cnca_image_box_t *box, int max_w, int max_h);

/* A PNG decoded (cnca_image_png.c: 8-bit RGBA up to
 * CNCA_LODEPNG_MAX_PIXELS by lodepng + libdeflate, see cnca_image_lodepng.h;
 * any other PNG, or one lodepng refuses, by libpng) into a new truecolor image
 * with the very pixels (and transparent colour) that gdImageCreateFromPngPtr
 * followed by gdImagePaletteToTrueColor give, for every colour type, bit
 * depth and interlacing. It refuses what libgd refuses but for one case:
 * zlib's Adler-32 of the rows is not checked (each chunk's CRC-32 is). No
 * limits are checked here (cnca_image_decode does that first). libpng's
 * memory comes from a subpool of p destroyed before return (p NULL:
 * malloc). APR_EINVAL when libpng refuses the file (corrupt, cut short;
 * said in a debug line), APR_ENOMEM. */
apr_status_t cnca_image_png_decode(gdImagePtr *pim, apr_pool_t *p, const void *data,
                                   apr_size_t len);

/* im as PNG, copied into p, with the pixels libgd would write (libgd and
 * browsers read back exactly those): with alpha when gdImageSaveAlpha(im,
 * 1), else opaque (with im's transparent colour in tRNS, as libgd does);
 * grey (+ alpha) when every pixel is grey, else RGB (+ alpha); rows
 * filtered with "up". level: -1 for the fast setting (zlib's run-length
 * strategy), or zlib's 0..9 with its default strategy. libpng's memory
 * comes from a subpool of p. im must be truecolor (APR_EINVAL, logged,
 * for a palette image: nothing here draws one). */
apr_status_t cnca_image_encode_png(const void **ppng, apr_size_t *plen, apr_pool_t *p,
                                   gdImagePtr im, int level);

/* The same for the part of a truecolor im in box (no copy of it made);
 * APR_EINVAL when box is empty or not inside im, or im is not truecolor. */
apr_status_t cnca_image_encode_png_part(const void **ppng, apr_size_t *plen, apr_pool_t *p,
                                        gdImagePtr im, const cnca_image_box_t *box, int level);

/* A photo of a signature on paper, made into ink on transparent in place:
 * paper (and anything large and dark, such as a table around the paper or
 * a shadow) fully transparent, ink darkened with alpha from its darkness,
 * specks dropped. May replace *pim by a smaller working copy (photos are
 * worked on at most CNCA_PHOTO_WORK_SIZE on a side). APR_ENOENT when
 * nothing darker than the paper is found; APR_ENOMEM. Scratch memory comes
 * from a subpool of p that is destroyed before return. */
#define CNCA_PHOTO_WORK_SIZE 1600
apr_status_t cnca_signature_photo_clean(gdImagePtr *pim, apr_pool_t *p);

#endif
