/* The picture captcha (manual FAQ 5: four digits): the answer from the
 * CSPRNG, and a 120x44 PNG a person reads easily on a phone and plain OCR
 * does not: each digit turned, scaled, moved and coloured at random, a wave
 * across the whole picture, noise lines and dots in the digits' colours.
 * Keeping the answer (single use, expiry) is the session's business.
 *
 * Start-up: cnca_image_init() (cnca_image.h), then cnca_captcha_set_font()
 * once, before threads: it renders the ten digits with FreeType into
 * masks that every captcha then only reads (so no request runs FreeType).
 * Without it the first captcha does the same with the default font, under
 * pthread_once. cnca_captcha_answer and cnca_captcha_png are thread-safe. */
#ifndef CNCA_CAPTCHA_H
#define CNCA_CAPTCHA_H

#include <apr_pools.h>
#include <apr_errno.h>

#define CNCA_CAPTCHA_DIGITS 4
#define CNCA_CAPTCHA_WIDTH 120
#define CNCA_CAPTCHA_HEIGHT 44

/* TrueType font for the digits (Debian package fonts-dejavu-core). */
#ifndef CNCA_CAPTCHA_FONT
#define CNCA_CAPTCHA_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
#endif

/* A new answer: CNCA_CAPTCHA_DIGITS decimal digits from the CSPRNG. */
apr_status_t cnca_captcha_answer(const char **panswer, apr_pool_t *p);

/* The picture of answer (1 to 8 decimal digits, else APR_EINVAL) as PNG,
 * in p. Every call draws a different picture. */
apr_status_t cnca_captcha_png(const void **ppng, apr_size_t *plen, apr_pool_t *p,
                              const char *answer);

/* Renders the digits of the TrueType font at path (NULL: CNCA_CAPTCHA_FONT).
 * APR_ENOENT (and a CNCA00420 warning) when FreeType cannot: captchas then
 * use libgd's built-in giant font, scaled up. Start-up only: it rewrites
 * the masks that drawing threads read. */
apr_status_t cnca_captcha_set_font(const char *path);

/* 1 when captchas are drawn with the TrueType font, 0 with the built-in one. */
int cnca_captcha_uses_truetype(void);

#endif
