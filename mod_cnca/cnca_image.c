/* Decoding an image as sent (after the byte, header and pixel checks),
 * turning it upright, cutting and scaling; libgd set-up. PNG decoding and
 * encoding through libpng are in cnca_image_png.c. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "cnca_image_gd.h"
#include "cnca_log.h"

#define MSG_TOO_LARGE "图片过大，请选择更小的图片"
#define MSG_TOO_MANY_PIXELS "图片尺寸过大，请选择尺寸更小的图片"
#define MSG_NOT_AN_IMAGE "无法识别该图片，请选择PNG或JPEG格式的图片"

apr_status_t cnca_sig_source_parse(cnca_sig_source_t *psrc, const char *name)
{
    if (name && !strcmp(name, "handwrite")) {
        *psrc = CNCA_SIG_HANDWRITE;
    } else if (name && !strcmp(name, "upload")) {
        *psrc = CNCA_SIG_UPLOAD;
    } else if (name && !strcmp(name, "photo")) {
        *psrc = CNCA_SIG_PHOTO;
    } else {
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

cnca_image_limits_t cnca_image_limits_effective(const cnca_image_limits_t *limits)
{
    cnca_image_limits_t l = {CNCA_IMAGE_MAX_BYTES, CNCA_IMAGE_MAX_WIDTH, CNCA_IMAGE_MAX_HEIGHT};

    if (limits && limits->max_bytes > 0) {
        l.max_bytes = limits->max_bytes;
    }
    if (limits && limits->max_width > 0) {
        l.max_width = limits->max_width;
    }
    if (limits && limits->max_height > 0) {
        l.max_height = limits->max_height;
    }
    return l;
}

/* "2MB", "1.5MB", "500KB" */
static const char *size_text(apr_pool_t *p, apr_size_t bytes)
{
    const apr_size_t mb = 1024 * 1024;

    if (bytes >= mb && bytes % mb == 0) {
        return apr_psprintf(p, "%" APR_SIZE_T_FMT "MB", bytes / mb);
    }
    if (bytes >= mb) {
        return apr_psprintf(p, "%.1fMB", (double)bytes / (double)mb);
    }
    return apr_psprintf(p, "%" APR_SIZE_T_FMT "KB", bytes / 1024 ? bytes / 1024 : 1);
}

gdImagePtr cnca_image_orient(gdImagePtr src, int o)
{
    int sw = gdImageSX(src), sh = gdImageSY(src);
    int swap = o >= 5 && o <= 8;
    int dw = swap ? sh : sw, dh = swap ? sw : sh;
    gdImagePtr dst = gdImageCreateTrueColor(dw, dh);
    int x, y;

    if (!dst) {
        return NULL;
    }
    gdImageAlphaBlending(dst, 0);
    for (y = 0; y < dh; ++y) {
        for (x = 0; x < dw; ++x) {
            int sx, sy;
            switch (o) {
                case 2: /* mirrored */
                    sx = sw - 1 - x, sy = y;
                    break;
                case 3: /* turned 180 */
                    sx = sw - 1 - x, sy = sh - 1 - y;
                    break;
                case 4: /* mirrored top to bottom */
                    sx = x, sy = sh - 1 - y;
                    break;
                case 5: /* transposed */
                    sx = y, sy = x;
                    break;
                case 6: /* needs a quarter turn clockwise */
                    sx = y, sy = sh - 1 - x;
                    break;
                case 7: /* transversed */
                    sx = sw - 1 - y, sy = sh - 1 - x;
                    break;
                case 8: /* needs a quarter turn anticlockwise */
                    sx = sw - 1 - y, sy = x;
                    break;
                default:
                    sx = x, sy = y;
                    break;
            }
            dst->tpixels[y][x] = src->tpixels[sy][sx];
        }
    }
    return dst;
}

static void refuse(const char **pcode, const char **pmsg, const char *code, const char *msg)
{
    *pcode = code;
    *pmsg = msg;
}

apr_status_t cnca_image_decode(gdImagePtr *pim, const char **pcode, const char **pmsg,
                               apr_pool_t *p, const void *data, apr_size_t len,
                               const cnca_image_limits_t *limits, int upright)
{
    cnca_image_limits_t l = cnca_image_limits_effective(limits);
    cnca_image_info_t info;
    const char *why;
    gdImagePtr im = NULL;
    apr_status_t rv;

    *pim = NULL;
    *pcode = NULL;
    *pmsg = NULL;
    if (len > l.max_bytes || len > INT_MAX) {
        rv = APR_ENOSPC;
        refuse(pcode, pmsg, CNCA_IMAGE_TOO_LARGE,
               p ? apr_psprintf(p, "图片过大，请选择不超过%s的图片", size_text(p, l.max_bytes))
                 : MSG_TOO_LARGE);
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_INFO, rv,
                        "CNCA00400: image refused: %" APR_SIZE_T_FMT
                        " bytes, limit %" APR_SIZE_T_FMT,
                        len, l.max_bytes);
        goto leave;
    }
    if ((rv = cnca_image_inspect(&info, &why, data, len)) != APR_SUCCESS) {
        rv = APR_EINVAL;
        refuse(pcode, pmsg, CNCA_IMAGE_NOT_AN_IMAGE, MSG_NOT_AN_IMAGE);
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_INFO, rv,
                        "CNCA00401: image refused: %s (%" APR_SIZE_T_FMT " bytes)", why, len);
        goto leave;
    }
    if (info.width > l.max_width || info.height > l.max_height) {
        rv = APR_ENOSPC;
        refuse(pcode, pmsg, CNCA_IMAGE_TOO_MANY_PIXELS,
               p ? apr_psprintf(p, "图片尺寸过大，请选择宽不超过%d像素、高不超过%d像素的图片",
                                l.max_width, l.max_height)
                 : MSG_TOO_MANY_PIXELS);
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_INFO, rv,
                        "CNCA00402: image refused: %s of %dx%d, limit %dx%d", info.type, info.width,
                        info.height, l.max_width, l.max_height);
        goto leave;
    }
    if (info.scans > CNCA_IMAGE_MAX_JPEG_SCANS) {
        rv = APR_EINVAL;
        refuse(pcode, pmsg, CNCA_IMAGE_NOT_AN_IMAGE, MSG_NOT_AN_IMAGE);
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_INFO, rv,
                        "CNCA00403: image refused: JPEG with %d scans, limit %d", info.scans,
                        CNCA_IMAGE_MAX_JPEG_SCANS);
        goto leave;
    }
    /* PNG through libpng here (the pixels libgd would give, without its
     * copy of the whole image); JPEG through libgd, which catches libjpeg's
     * errors itself (setjmp) and then gives NULL; libjpeg's warnings (a
     * body cut short) are ignored, the missing part comes out gray. */
    if (!strcmp(info.type, "image/png")) {
        if ((rv = cnca_image_png_decode(&im, p, data, len)) == APR_ENOMEM) {
            goto nomem;
        }
    } else {
        im = gdImageCreateFromJpegPtr((int)len, (void *)data);
    }
    if (!im) {
        rv = APR_EINVAL;
        refuse(pcode, pmsg, CNCA_IMAGE_NOT_AN_IMAGE, MSG_NOT_AN_IMAGE);
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_INFO, rv,
                        "CNCA00404: image refused: %s of %dx%d does not decode", info.type,
                        info.width, info.height);
        goto leave;
    }
    if (gdImageSX(im) != info.width || gdImageSY(im) != info.height) {
        rv = APR_EINVAL;
        refuse(pcode, pmsg, CNCA_IMAGE_NOT_AN_IMAGE, MSG_NOT_AN_IMAGE);
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_WARNING, rv,
                        "CNCA00405: image refused: header says %dx%d, decoded %dx%d", info.width,
                        info.height, gdImageSX(im), gdImageSY(im));
        goto leave;
    }
    if (!gdImagePaletteToTrueColor(im)) {
        rv = APR_ENOMEM;
        goto nomem;
    }
    if (upright && info.orientation > 1) {
        gdImagePtr turned = cnca_image_orient(im, info.orientation);
        if (!turned) {
            rv = APR_ENOMEM;
            goto nomem;
        }
        gdImageDestroy(im);
        im = turned;
    }
    *pim = im;
    im = NULL;
    rv = APR_SUCCESS;
    goto leave;
nomem:
    refuse(pcode, pmsg, CNCA_IMAGE_INTERNAL, CNCA_IMAGE_MSG_INTERNAL);
    cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv, "CNCA00406: out of memory for a %dx%d image",
                    info.width, info.height);
leave:
    if (im) {
        gdImageDestroy(im);
    }
    return rv;
}

apr_status_t cnca_image_decode_size(int *pw, int *ph, const char **pmsg, const void *data,
                                    apr_size_t len, const cnca_image_limits_t *limits)
{
    gdImagePtr im;
    const char *code;
    apr_status_t rv;

    *pw = *ph = 0;
    rv = cnca_image_decode(&im, &code, pmsg, NULL, data, len, limits, 0);
    if (rv == APR_SUCCESS) {
        *pw = gdImageSX(im);
        *ph = gdImageSY(im);
        gdImageDestroy(im);
    }
    return rv;
}

gdImagePtr cnca_image_fit(gdImagePtr src, const cnca_image_box_t *box, int max_w, int max_h)
{
    gdImagePtr dst;
    int dw = box->w, dh = box->h, y;

    if (dw > max_w || dh > max_h) {
        double s = (double)max_w / box->w;
        if ((double)max_h / box->h < s) {
            s = (double)max_h / box->h;
        }
        dw = (int)(box->w * s + 0.5);
        dh = (int)(box->h * s + 0.5);
        dw = dw < 1 ? 1 : dw > max_w ? max_w : dw;
        dh = dh < 1 ? 1 : dh > max_h ? max_h : dh;
    }
    if (!(dst = gdImageCreateTrueColor(dw, dh))) {
        return NULL;
    }
    gdImageAlphaBlending(dst, 0);
    gdImageSaveAlpha(dst, 1);
    if (dw == box->w && dh == box->h) {
        for (y = 0; y < dh; ++y) {
            memcpy(dst->tpixels[y], src->tpixels[box->y + y] + box->x, sizeof(int) * dw);
        }
    } else {
        gdImageCopyResampled(dst, src, 0, 0, box->x, box->y, dw, dh, box->w, box->h);
    }
    return dst;
}

/* libgd's own messages (a corrupt JPEG, a libjpeg warning): debug lines, as
 * the applicant's file causes them and CNCA0040x already says it failed. */
static void gd_message(int priority, const char *format, va_list args)
{
    char buf[512];
    apr_size_t n;

    (void)priority;
    if (!cnca_log_is_level(CNCA_LOG_DEBUG)) {
        return;
    }
    vsnprintf(buf, sizeof(buf), format, args);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_DEBUG, APR_SUCCESS, "CNCA00449: libgd: %s", buf);
}

void cnca_image_init(void)
{
    gdSetErrorMethod(gd_message);
    if (gdFontCacheSetup() != 0) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_WARNING, APR_EGENERAL,
                        "CNCA00408: libgd could not set up FreeType; captchas use the "
                        "built-in font");
    }
}

void cnca_image_terminate(void)
{
    gdFontCacheShutdown();
}
