/* The decoder of what a signature pad sends, an 8-bit RGBA PNG: lodepng
 * (chunks, CRCs, row filters, interlacing) with libdeflate inflating the
 * image data. libpng can only inflate with zlib, whose inflate of a
 * canvas's 1 MB of mostly transparent rows was half of a signature's CPU
 * time (Debian's zlib 1.2.13 copies long runs byte by byte); libdeflate
 * takes a tenth of that. Debian builds lodepng as C++, so this file's
 * implementation is a small C++ unit (cnca_image_lodepng.cc). */
#ifndef CNCA_IMAGE_LODEPNG_H
#define CNCA_IMAGE_LODEPNG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* lodepng holds the inflated rows and the pixels whole (libpng a row at
 * a time): 2 x 4 bytes per pixel besides the image made from them. Larger
 * images (photos, uploads; the page sends at most 800x400) stay libpng's. */
#define CNCA_LODEPNG_MAX_PIXELS (1024 * 1024)

/* 1 when png's header says 8-bit RGBA (colour type 6, depth 8, any
 * interlace) of at most CNCA_LODEPNG_MAX_PIXELS pixels: what
 * cnca_image_lodepng_rgba8 decodes. */
int cnca_image_lodepng_fits(const unsigned char *png, size_t len);

/* The pixels of an 8-bit RGBA PNG, R G B A bytes row after row, in
 * *prgba (malloc'd; the caller free()s it), its size in *pw x *ph.
 * Returns 0, or lodepng's error number with its English text in *perr
 * (for a debug line): a file it refuses, a PNG of another kind, or 83
 * (out of memory). zlib's Adler-32 of the image data is checked
 * (libdeflate), and every chunk's CRC; image data that inflates to more
 * than its rows and an iCCP profile of more than 256 KiB are refused
 * before more is inflated; text chunks are skipped unread. */
unsigned cnca_image_lodepng_rgba8(unsigned char **prgba, unsigned *pw, unsigned *ph,
                                  const unsigned char *png, size_t len, const char **perr);

#ifdef __cplusplus
}
#endif

#endif
