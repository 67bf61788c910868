/* What a PNG or JPEG says about itself, read from its header bytes without
 * decoding: the type, the dimensions, the JPEG Exif orientation and scan
 * count. Every read is bounds-checked; the data is hostile. */
#include <string.h>

#include "cnca_image.h"

#define PNG_TYPE "image/png"
#define JPEG_TYPE "image/jpeg"

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static apr_uint32_t be32(const unsigned char *b)
{
    return ((apr_uint32_t)b[0] << 24) | ((apr_uint32_t)b[1] << 16) | ((apr_uint32_t)b[2] << 8) |
           (apr_uint32_t)b[3];
}

static unsigned be16(const unsigned char *b)
{
    return ((unsigned)b[0] << 8) | b[1];
}

/* CRC-32 (ISO 3309, as PNG uses it) of a few bytes: no table needed. */
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

static int png_depth_ok(int color_type, int depth)
{
    switch (color_type) {
        case 0: /* gray */
            return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
        case 3: /* palette */
            return depth == 1 || depth == 2 || depth == 4 || depth == 8;
        case 2: /* RGB */
        case 4: /* gray + alpha */
        case 6: /* RGBA */
            return depth == 8 || depth == 16;
        default:
            return 0;
    }
}

/* signature(8) | length(4)=13 | "IHDR" | width(4) height(4) depth type
 * compression filter interlace | CRC(4) over type and data */
static apr_status_t inspect_png(cnca_image_info_t *info, const char **pmsg, const unsigned char *b,
                                apr_size_t len)
{
    const unsigned char *ihdr = b + 8;
    apr_uint32_t w, h;

    if (len < 8 + 8 + 13 + 4) {
        *pmsg = "PNG header truncated";
        return APR_EINVAL;
    }
    if (be32(ihdr) != 13 || memcmp(ihdr + 4, "IHDR", 4) != 0) {
        *pmsg = "PNG does not start with IHDR";
        return APR_EINVAL;
    }
    if (crc32_of(ihdr + 4, 4 + 13) != be32(ihdr + 8 + 13)) {
        *pmsg = "PNG IHDR CRC mismatch";
        return APR_EINVAL;
    }
    w = be32(ihdr + 8);
    h = be32(ihdr + 12);
    if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu) {
        *pmsg = "PNG dimensions out of range";
        return APR_EINVAL;
    }
    if (!png_depth_ok(ihdr[17], ihdr[16]) || ihdr[18] != 0 || ihdr[19] != 0 || ihdr[20] > 1) {
        *pmsg = "PNG IHDR fields invalid";
        return APR_EINVAL;
    }
    info->type = PNG_TYPE;
    info->width = (int)w;
    info->height = (int)h;
    return APR_SUCCESS;
}

static int is_sof(int m)
{
    /* SOF0-3, 5-7, 9-11, 13-15; not DHT (C4), JPG (C8), DAC (CC) */
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* The Exif orientation tag (0x0112) of IFD0 in an APP1 "Exif\0\0" segment
 * body; 0 when absent or malformed. */
static int exif_orientation(const unsigned char *b, apr_size_t len)
{
    const unsigned char *t;
    apr_size_t tlen, ifd, i, count;
    int little;

    if (len < 6 + 8 || memcmp(b, "Exif\0\0", 6) != 0) {
        return 0;
    }
    t = b + 6;
    tlen = len - 6;
    if (t[0] == 'I' && t[1] == 'I') {
        little = 1;
    } else if (t[0] == 'M' && t[1] == 'M') {
        little = 0;
    } else {
        return 0;
    }
#define U16(p) (little ? (unsigned)((p)[0] | ((p)[1] << 8)) : be16(p))
#define U32(p)                                                                                     \
    (little ? ((apr_uint32_t)(p)[0] | ((apr_uint32_t)(p)[1] << 8) | ((apr_uint32_t)(p)[2] << 16) | \
               ((apr_uint32_t)(p)[3] << 24))                                                       \
            : be32(p))
    if (U16(t + 2) != 42) {
        return 0;
    }
    ifd = U32(t + 4);
    if (ifd < 8 || ifd > tlen - 2) {
        return 0;
    }
    count = U16(t + ifd);
    for (i = 0; i < count; ++i) {
        apr_size_t e = ifd + 2 + 12 * i;
        if (e + 12 > tlen) {
            return 0;
        }
        if (U16(t + e) == 0x0112 && U16(t + e + 2) == 3 /* SHORT */) {
            unsigned v = U16(t + e + 8);
            return v >= 1 && v <= 8 ? (int)v : 0;
        }
    }
    return 0;
#undef U16
#undef U32
}

/* From pos (just after an SOS header) to the next marker that is not a
 * restart: entropy-coded data stuffs every 0xFF data byte with 0x00. Returns
 * the offset of that marker's 0xFF, or len. */
static apr_size_t skip_entropy(const unsigned char *b, apr_size_t pos, apr_size_t len)
{
    while (pos + 1 < len) {
        if (b[pos] != 0xff) {
            ++pos;
            continue;
        }
        if (b[pos + 1] == 0x00 || (b[pos + 1] >= 0xd0 && b[pos + 1] <= 0xd7)) {
            pos += 2;
            continue;
        }
        if (b[pos + 1] == 0xff) { /* fill byte */
            ++pos;
            continue;
        }
        return pos;
    }
    return len;
}

/* Walks the marker segments: Exif orientation from the APP1 before the
 * frame, dimensions from the first SOFn. After the frame the walk goes on
 * (through the entropy-coded data) only to count scans; a file cut short
 * there is left for the decoder to judge. */
static apr_status_t inspect_jpeg(cnca_image_info_t *info, const char **pmsg, const unsigned char *b,
                                 apr_size_t len)
{
    apr_size_t pos = 2;
    int have_sof = 0;

    info->orientation = 1;
    info->scans = 0;
    for (;;) {
        int m;
        apr_size_t seglen;

        if (pos >= len || b[pos] != 0xff) {
            if (have_sof) {
                break;
            }
            *pmsg = pos >= len ? "JPEG ends before its frame header" : "JPEG marker expected";
            return APR_EINVAL;
        }
        while (pos < len && b[pos] == 0xff) { /* fill bytes */
            ++pos;
        }
        if (pos >= len) {
            if (have_sof) {
                break;
            }
            *pmsg = "JPEG ends before its frame header";
            return APR_EINVAL;
        }
        m = b[pos++];
        if (m == 0xd9) { /* EOI */
            if (have_sof) {
                break;
            }
            *pmsg = "JPEG has no frame header (SOF)";
            return APR_EINVAL;
        }
        if ((m >= 0xd0 && m <= 0xd7) || m == 0x01) { /* standalone */
            continue;
        }
        if (m == 0x00 || m == 0xd8) {
            if (have_sof) {
                break;
            }
            *pmsg = "JPEG marker invalid";
            return APR_EINVAL;
        }
        if (pos + 2 > len || (seglen = be16(b + pos)) < 2 || pos + seglen > len) {
            if (have_sof) {
                break;
            }
            *pmsg = "JPEG segment truncated";
            return APR_EINVAL;
        }
        if (!have_sof && is_sof(m)) {
            const unsigned char *s = b + pos + 2;
            unsigned h, w, ncomp;
            if (seglen < 8) {
                *pmsg = "JPEG frame header too short";
                return APR_EINVAL;
            }
            h = be16(s + 1);
            w = be16(s + 3);
            ncomp = s[5];
            if (w == 0 || h == 0 || ncomp == 0 || ncomp > 4 || seglen != 8 + 3 * ncomp) {
                *pmsg = "JPEG frame header invalid";
                return APR_EINVAL;
            }
            info->type = JPEG_TYPE;
            info->width = (int)w;
            info->height = (int)h;
            have_sof = 1;
        } else if (!have_sof && m == 0xda) {
            *pmsg = "JPEG scan before its frame header";
            return APR_EINVAL;
        } else if (!have_sof && m == 0xe1 && info->orientation == 1) {
            int o = exif_orientation(b + pos + 2, seglen - 2);
            if (o) {
                info->orientation = o;
            }
        }
        pos += seglen;
        if (m == 0xda) {
            ++info->scans;
            pos = skip_entropy(b, pos, len);
        }
    }
    return APR_SUCCESS;
}

apr_status_t cnca_image_inspect(cnca_image_info_t *info, const char **pmsg, const void *data,
                                apr_size_t len)
{
    const unsigned char *b = data;

    memset(info, 0, sizeof(*info));
    info->orientation = 1;
    *pmsg = NULL;
    if (!data || len == 0) {
        *pmsg = "empty";
        return APR_EINVAL;
    }
    if (len >= 8 && memcmp(b, png_signature, 8) == 0) {
        return inspect_png(info, pmsg, b, len);
    }
    if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) {
        return inspect_jpeg(info, pmsg, b, len);
    }
    *pmsg = "neither PNG nor JPEG";
    return APR_EINVAL;
}

apr_status_t cnca_image_probe(const char **ptype, int *pw, int *ph, const char **pmsg,
                              const void *data, apr_size_t len)
{
    cnca_image_info_t info;
    apr_status_t rv = cnca_image_inspect(&info, pmsg, data, len);

    *ptype = rv == APR_SUCCESS ? info.type : NULL;
    *pw = rv == APR_SUCCESS ? info.width : 0;
    *ph = rv == APR_SUCCESS ? info.height : 0;
    return rv;
}
