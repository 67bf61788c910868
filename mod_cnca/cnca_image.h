/* Images the applicant sends: the signature picture (handwritten on the
 * canvas, uploaded, or photographed on paper) and the sandbox's face
 * capture. Only PNG and JPEG are taken; the type, the size in bytes and the
 * pixel dimensions (read from the header) are checked before anything is
 * decoded, and what is kept is always re-encoded as PNG (with libpng),
 * never the bytes as sent.
 *
 * Start-up: call cnca_image_init() once, before threads (it routes libgd's
 * messages to cnca_log at debug level instead of stderr, and sets up
 * libgd's FreeType cache for cnca_captcha_set_font). Everything else is
 * thread-safe. */
#ifndef CNCA_IMAGE_H
#define CNCA_IMAGE_H

#include <apr_pools.h>
#include <apr_errno.h>

/* Where a signature picture came from (POST /me/signature?source=...). */
typedef enum { CNCA_SIG_HANDWRITE, CNCA_SIG_UPLOAD, CNCA_SIG_PHOTO } cnca_sig_source_t;

/* "handwrite", "upload", "photo"; APR_EINVAL for anything else (and NULL). */
apr_status_t cnca_sig_source_parse(cnca_sig_source_t *psrc, const char *name);

/* Limits on an image as sent. A zero field means its default. */
typedef struct {
    apr_size_t max_bytes; /* default 2 MB */
    int max_width;        /* default 4000 */
    int max_height;       /* default 4000 */
} cnca_image_limits_t;

#define CNCA_IMAGE_MAX_BYTES (2 * 1024 * 1024)
#define CNCA_IMAGE_MAX_WIDTH 4000
#define CNCA_IMAGE_MAX_HEIGHT 4000

/* The signature as kept: fits within this box (scaled down, never up). */
#define CNCA_SIGNATURE_MAX_WIDTH 800
#define CNCA_SIGNATURE_MAX_HEIGHT 400

/* JPEGs with more scans than this are refused (a progressive JPEG with
 * thousands of scans costs a full pass of the image for each). */
#define CNCA_IMAGE_MAX_JPEG_SCANS 100

/* Error codes in *pcode (the page maps them; *pmsg is the Chinese text). */
#define CNCA_IMAGE_TOO_LARGE "too_large"             /* APR_ENOSPC */
#define CNCA_IMAGE_TOO_MANY_PIXELS "too_many_pixels" /* APR_ENOSPC */
#define CNCA_IMAGE_NOT_AN_IMAGE "not_an_image"       /* APR_EINVAL */
#define CNCA_IMAGE_NO_INK "no_ink"                   /* APR_EINVAL */
#define CNCA_IMAGE_INTERNAL "internal"               /* APR_ENOMEM, APR_EGENERAL */

/* What the header says, without decoding anything. */
typedef struct {
    const char *type; /* "image/png" | "image/jpeg" */
    int width, height;
    int orientation; /* JPEG Exif orientation 1..8 (1 when absent); 1 for PNG */
    int scans;       /* JPEG: start-of-scan markers in the file; 0 for PNG */
} cnca_image_info_t;

/* Reads the PNG signature + IHDR (with its CRC) or the JPEG markers up to
 * the first SOFn; for JPEG it also reads the Exif orientation and counts
 * the scans. APR_EINVAL with *pmsg (English, for logs) for anything else:
 * not PNG/JPEG, a truncated or corrupt header, zero dimensions, a JPEG
 * without SOF. A body truncated after the header is not detected here. */
apr_status_t cnca_image_inspect(cnca_image_info_t *info, const char **pmsg, const void *data,
                                apr_size_t len);

/* cnca_image_inspect, giving only the type and dimensions. */
apr_status_t cnca_image_probe(const char **ptype, int *pw, int *ph, const char **pmsg,
                              const void *data, apr_size_t len);

/* The whole pipeline for a signature picture: byte limit, header probe,
 * pixel limit (from the header, before decoding), decode (PNG with libpng,
 * JPEG with libgd), JPEG Exif orientation applied, then by source:
 *   handwrite: white and transparent become transparent (anti-aliased edges
 *              keep partial alpha), cropped to the ink plus a small margin;
 *   upload:    cropped to the ink when the border is plain white or
 *              transparent, else kept whole;
 *   photo:     the local paper level is estimated (morphological closing),
 *              paper becomes transparent, ink dark with alpha from its
 *              darkness, specks dropped, cropped to the ink;
 * then scaled down to fit 800x400 and encoded as PNG with alpha into p
 * (grey + alpha when every pixel is grey, as ink from a canvas is; else
 * RGBA).
 * Errors: APR_ENOSPC / APR_EINVAL / APR_ENOMEM with *pcode one of the codes
 * above and *pmsg the Chinese message for the applicant. limits may be
 * NULL (defaults). */
apr_status_t cnca_signature_normalize(const void **ppng, apr_size_t *plen, const char **pcode,
                                      const char **pmsg, apr_pool_t *p, const void *data,
                                      apr_size_t len, cnca_sig_source_t src,
                                      const cnca_image_limits_t *limits);

/* Decodes fully (after the same byte, header and pixel checks) and gives the
 * decoded dimensions (as stored, Exif orientation not applied). On error
 * *pmsg is a Chinese message (static). limits may be NULL. */
apr_status_t cnca_image_decode_size(int *pw, int *ph, const char **pmsg, const void *data,
                                    apr_size_t len, const cnca_image_limits_t *limits);

/* Once at start-up, before threads; safe to call again. */
void cnca_image_init(void);

/* Frees libgd's font cache (e.g. from a pool cleanup at shutdown, when no
 * thread draws any more). */
void cnca_image_terminate(void);

#endif
