/* A photographed signature: ink on paper, under uneven light, maybe with
 * the table around the paper in the picture, made into ink on transparent.
 *
 * The paper level is estimated per pixel with a grey-level closing (a
 * running maximum, then a running minimum, over a square much wider than a
 * pen stroke): thin dark strokes vanish from it while lighting gradients,
 * shadows and large dark areas stay. The darkness of each pixel relative to
 * that level (a "black top-hat") is then thresholded from its own statistics:
 * the median and median absolute deviation (the paper's grain and noise,
 * since ink is always the minority), and the median darkness of what is
 * above that (the ink itself). Connected specks that are small or never
 * fully dark are dropped. */
#include <string.h>

#include <apr_pools.h>

#include "cnca_image_gd.h"
#include "cnca_log.h"

/* Darkness (0..255, relative to the local paper) below which a pixel is
 * paper whatever the statistics say: about 16% darker than the paper. */
#define MIN_INK_DARKNESS 40

/* Ink is at least this far above the paper's median darkness. */
#define MIN_INK_CONTRAST 24

/* Ink colour: its luma is brought down to at most this. */
#define INK_LUMA 48

typedef struct {
    int w, h;
    apr_size_t n;
    unsigned char *gray;  /* luma over white; later: visited flags */
    unsigned char *tmp;   /* scratch; later: darkness */
    unsigned char *level; /* smoothed luma; later: alpha 0..255 */
    unsigned char *paper; /* the closing: the local paper level */
    int *deque;           /* max(w, h) */
    int *queue;           /* n, for the flood fill */
} photo_t;

static int luma(int c)
{
    return (77 * gdTrueColorGetRed(c) + 150 * gdTrueColorGetGreen(c) +
            29 * gdTrueColorGetBlue(c)) >>
           8;
}

/* Running maximum (or minimum) over [i-r, i+r], clamped to the ends, of n
 * values `step` apart: a monotonic deque, O(n) whatever r. */
static void run_extreme(const unsigned char *in, unsigned char *out, int n, apr_size_t step, int r,
                        int want_max, int *dq)
{
    int head = 0, tail = 0, next = 0, i;

    for (i = 0; i < n; ++i) {
        int hi = i + r < n - 1 ? i + r : n - 1;
        for (; next <= hi; ++next) {
            unsigned char v = in[next * step];
            while (tail > head &&
                   (want_max ? in[dq[tail - 1] * step] <= v : in[dq[tail - 1] * step] >= v)) {
                --tail;
            }
            dq[tail++] = next;
        }
        while (dq[head] < i - r) {
            ++head;
        }
        out[i * step] = in[dq[head] * step];
    }
}

/* Running extreme over a (2r+1)-square: rows from in to tmp, columns from
 * tmp to out. */
static void square_extreme(photo_t *ph, const unsigned char *in, unsigned char *out, int r,
                           int want_max)
{
    int x, y;

    for (y = 0; y < ph->h; ++y) {
        run_extreme(in + (apr_size_t)y * ph->w, ph->tmp + (apr_size_t)y * ph->w, ph->w, 1, r,
                    want_max, ph->deque);
    }
    for (x = 0; x < ph->w; ++x) {
        run_extreme(ph->tmp + x, out + x, ph->h, (apr_size_t)ph->w, r, want_max, ph->deque);
    }
}

/* 3x3 box blur of gray into level (edges repeated). */
static void smooth(photo_t *ph)
{
    int w = ph->w, h = ph->h, x, y;

    for (y = 0; y < h; ++y) {
        const unsigned char *in = ph->gray + (apr_size_t)y * w;
        unsigned char *out = ph->tmp + (apr_size_t)y * w;
        for (x = 0; x < w; ++x) {
            int l = in[x > 0 ? x - 1 : x], rr = in[x < w - 1 ? x + 1 : x];
            out[x] = (unsigned char)((l + in[x] + rr + 1) / 3);
        }
    }
    for (y = 0; y < h; ++y) {
        const unsigned char *up = ph->tmp + (apr_size_t)(y > 0 ? y - 1 : y) * w;
        const unsigned char *mid = ph->tmp + (apr_size_t)y * w;
        const unsigned char *down = ph->tmp + (apr_size_t)(y < h - 1 ? y + 1 : y) * w;
        unsigned char *out = ph->level + (apr_size_t)y * w;
        for (x = 0; x < w; ++x) {
            out[x] = (unsigned char)((up[x] + mid[x] + down[x] + 1) / 3);
        }
    }
}

/* The value below which `share` (in 1/1000) of the counted values lie. */
static int hist_quantile(const apr_size_t hist[256], int from, apr_size_t total, int share)
{
    apr_size_t want = total * (apr_size_t)share / 1000, seen = 0;
    int v;

    for (v = from; v < 256; ++v) {
        seen += hist[v];
        if (seen > want) {
            return v;
        }
    }
    return 255;
}

/* Darkness relative to the paper into tmp; then thresholds, and alpha into
 * level. APR_ENOENT when nothing is dark enough. */
static apr_status_t ink_alpha(photo_t *ph)
{
    apr_size_t hist[256], dev[256], i, ink = 0;
    int median, mad, spread, lo, hi, ink_median;

    memset(hist, 0, sizeof(hist));
    for (i = 0; i < ph->n; ++i) {
        int bg = ph->paper[i], v = ph->level[i];
        int d = bg > v ? (bg - v) * 255 / (bg > 32 ? bg : 32) : 0;
        ph->tmp[i] = (unsigned char)(d > 255 ? 255 : d);
        ++hist[ph->tmp[i]];
    }
    median = hist_quantile(hist, 0, ph->n, 500);
    memset(dev, 0, sizeof(dev));
    for (i = 0; i < 256; ++i) {
        int d = (int)i > median ? (int)i - median : median - (int)i;
        dev[d] += hist[i];
    }
    mad = hist_quantile(dev, 0, ph->n, 500);
    spread = 4 * (mad * 3 + 1) / 2; /* about 4 sigma (sigma ~ 1.48 MAD) */
    lo = median + (spread > MIN_INK_CONTRAST ? spread : MIN_INK_CONTRAST);
    lo = lo < MIN_INK_DARKNESS ? MIN_INK_DARKNESS : lo;
    if (lo >= 255) {
        return APR_ENOENT;
    }
    for (i = lo + 1; i < 256; ++i) {
        ink += hist[i];
    }
    if (ink == 0) {
        return APR_ENOENT;
    }
    ink_median = hist_quantile(hist, lo + 1, ink, 500);
    hi = lo + ((ink_median - lo) * 2 / 3 > 24 ? (ink_median - lo) * 2 / 3 : 24);
    hi = hi > 255 ? 255 : hi;
    hi = hi <= lo ? lo + 1 : hi;
    for (i = 0; i < ph->n; ++i) {
        int d = ph->tmp[i];
        int a = d <= lo ? 0 : (d - lo) * 255 / (hi - lo);
        ph->level[i] = (unsigned char)(a > 255 ? 255 : a);
    }
    return APR_SUCCESS;
}

/* Drops 8-connected components of ink that are smaller than min_area or
 * never fully opaque (paper grain, dust, a crease's faint line). */
static void drop_specks(photo_t *ph)
{
    unsigned char *seen = ph->gray, *alpha = ph->level;
    apr_size_t min_area = ph->n / 60000 > 8 ? ph->n / 60000 : 8, start;
    int w = ph->w, h = ph->h;

    memset(seen, 0, ph->n);
    for (start = 0; start < ph->n; ++start) {
        apr_size_t head = 0, tail = 0, k;
        int solid = 0;

        if (!alpha[start] || seen[start]) {
            continue;
        }
        seen[start] = 1;
        ph->queue[tail++] = (int)start;
        while (head < tail) {
            int at = ph->queue[head++], x = at % w, y = at / w, dx, dy;
            solid |= alpha[at] == 255;
            for (dy = -1; dy <= 1; ++dy) {
                for (dx = -1; dx <= 1; ++dx) {
                    int nx = x + dx, ny = y + dy, nb;
                    if (nx < 0 || ny < 0 || nx >= w || ny >= h) {
                        continue;
                    }
                    nb = ny * w + nx;
                    if (alpha[nb] && !seen[nb]) {
                        seen[nb] = 1;
                        ph->queue[tail++] = nb;
                    }
                }
            }
        }
        if (tail < min_area || !solid) {
            for (k = 0; k < tail; ++k) {
                alpha[ph->queue[k]] = 0;
            }
        }
    }
}

apr_status_t cnca_signature_photo_clean(gdImagePtr *pim, apr_pool_t *p)
{
    apr_pool_t *scratch = NULL;
    gdImagePtr im = *pim;
    photo_t ph;
    apr_size_t i;
    apr_status_t rv;
    int x, y, r;

    if (gdImageSX(im) > CNCA_PHOTO_WORK_SIZE || gdImageSY(im) > CNCA_PHOTO_WORK_SIZE) {
        cnca_image_box_t all = {0, 0, gdImageSX(im), gdImageSY(im)};
        gdImagePtr small = cnca_image_fit(im, &all, CNCA_PHOTO_WORK_SIZE, CNCA_PHOTO_WORK_SIZE);
        if (!small) {
            rv = APR_ENOMEM;
            goto nomem;
        }
        gdImageDestroy(im);
        *pim = im = small;
    }
    memset(&ph, 0, sizeof(ph));
    ph.w = gdImageSX(im);
    ph.h = gdImageSY(im);
    ph.n = (apr_size_t)ph.w * ph.h;
    if ((rv = apr_pool_create(&scratch, p)) != APR_SUCCESS) {
        goto nomem;
    }
    ph.gray = apr_palloc(scratch, ph.n);
    ph.tmp = apr_palloc(scratch, ph.n);
    ph.level = apr_palloc(scratch, ph.n);
    ph.paper = apr_palloc(scratch, ph.n);
    ph.deque = apr_palloc(scratch, sizeof(int) * (ph.w > ph.h ? ph.w : ph.h));
    ph.queue = apr_palloc(scratch, sizeof(int) * ph.n);
    if (!ph.gray || !ph.tmp || !ph.level || !ph.paper || !ph.deque || !ph.queue) {
        rv = APR_ENOMEM;
        goto nomem;
    }

    for (y = 0, i = 0; y < ph.h; ++y) {
        for (x = 0; x < ph.w; ++x, ++i) {
            int c = im->tpixels[y][x], a = gdAlphaMax - gdTrueColorGetAlpha(c);
            ph.gray[i] = (unsigned char)((luma(c) * a + 255 * (gdAlphaMax - a)) / gdAlphaMax);
        }
    }
    smooth(&ph);
    /* wider than any pen stroke in the picture: 2% of its longer side */
    r = (ph.w > ph.h ? ph.w : ph.h) / 50;
    r = r < 6 ? 6 : r > 48 ? 48 : r;
    square_extreme(&ph, ph.level, ph.paper, r, 1);
    square_extreme(&ph, ph.paper, ph.paper, r, 0);
    if ((rv = ink_alpha(&ph)) != APR_SUCCESS) {
        goto leave;
    }
    drop_specks(&ph);

    for (y = 0, i = 0; y < ph.h; ++y) {
        int *row = im->tpixels[y];
        for (x = 0; x < ph.w; ++x, ++i) {
            int a = ph.level[i], c = row[x], l = luma(c);
            int cr = gdTrueColorGetRed(c), cg = gdTrueColorGetGreen(c), cb = gdTrueColorGetBlue(c);
            if (!a) {
                row[x] = CNCA_IMAGE_CLEAR;
                continue;
            }
            if (l > INK_LUMA) {
                cr = cr * INK_LUMA / l;
                cg = cg * INK_LUMA / l;
                cb = cb * INK_LUMA / l;
            }
            row[x] = gdTrueColorAlpha(cr, cg, cb, gdAlphaMax - (a * gdAlphaMax + 127) / 255);
        }
    }
    rv = APR_SUCCESS;
    goto leave;
nomem:
    cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                    "CNCA00411: out of memory cleaning a %dx%d photo", gdImageSX(im),
                    gdImageSY(im));
leave:
    if (scratch) {
        apr_pool_destroy(scratch);
    }
    return rv;
}
