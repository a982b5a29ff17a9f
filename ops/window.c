/* Sliding windows over NCHW images: geometry, im2col and col2im.
 *
 * Along one axis of size n, with kernel k, stride s, padding p and dilation d,
 * output position o and tap i read input position o*s + i*d - p; the window
 * count is (n + 2p - (d(k-1) + 1)) / s + 1. For a fixed tap, the positions o
 * that land inside the image form one interval [lo, hi): computing it once
 * per tap leaves the inner loops free of bounds tests, and with stride 1 each
 * inner run is a plain copy. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "window.h"

ag_window2d agi_window_norm(const ag_window2d *g)
{
    ag_window2d n = *g;
    if (!n.stride_h) n.stride_h = 1;
    if (!n.stride_w) n.stride_w = 1;
    if (!n.dil_h) n.dil_h = 1;
    if (!n.dil_w) n.dil_w = 1;
    return n;
}

/* Windows along one axis, or 0 if the kernel does not fit (sizes beyond
 * PTRDIFF_MAX / 4 are refused, so no index arithmetic below can overflow). */
static int axis_out(size_t n, size_t k, size_t s, size_t p, size_t d, size_t *out)
{
    const size_t lim = (size_t)PTRDIFF_MAX / 4;
    if (k == 0 || n > lim || p > lim || d > lim || s > lim || k - 1 > lim / d)
        return 0;
    size_t eff = d * (k - 1) + 1, padded = n + 2 * p;
    if (eff > padded)
        return 0;
    *out = (padded - eff) / s + 1;
    return 1;
}

int agi_window_check(const ag_window2d *g, size_t h, size_t w, size_t *oh, size_t *ow, char *msg,
                     size_t n)
{
    if (g->kh == 0 || g->kw == 0 || g->kh > SIZE_MAX / g->kw / AG_MAX_DIMS) {
        if (msg)
            snprintf(msg, n, "kernel size %zux%zu is empty or too large", g->kh, g->kw);
        return -1;
    }
    const size_t lim = (size_t)PTRDIFF_MAX / 4;
    if (g->stride_h > lim || g->stride_w > lim || g->pad_h > lim || g->pad_w > lim ||
        g->dil_h > lim || g->dil_w > lim || h > lim || w > lim) {
        if (msg)
            snprintf(msg, n, "stride, padding, dilation or image size beyond %zu", lim);
        return -1;
    }
    if (!axis_out(h, g->kh, g->stride_h, g->pad_h, g->dil_h, oh) ||
        !axis_out(w, g->kw, g->stride_w, g->pad_w, g->dil_w, ow)) {
        if (msg)
            snprintf(msg, n,
                 "kernel %zux%zu (dilation %zux%zu) is larger than the input %zux%zu with "
                 "padding %zux%zu",
                 g->kh, g->kw, g->dil_h, g->dil_w, h, w, g->pad_h, g->pad_w);
        return -1;
    }
    return 0;
}

/* Output positions [lo, hi) whose tap `tap` reads inside [0, n). */
static void tap_range(size_t tap, size_t n, size_t out, size_t s, size_t p, size_t d, size_t *lo,
                      size_t *hi)
{
    ptrdiff_t off = (ptrdiff_t)(tap * d) - (ptrdiff_t)p;
    size_t l = off >= 0 ? 0 : ((size_t)-off + s - 1) / s;
    size_t h = (ptrdiff_t)n > off ? ((size_t)((ptrdiff_t)n - off) + s - 1) / s : 0;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

static void fill(ag_real *x, size_t n, ag_real v)
{
    for (size_t i = 0; i < n; i++) x[i] = v;
}

/* dst[i] = src[i s] (or +=), i < n. Runs are one image row (tens of
 * values): plain loops the compiler vectorises beat a call to memcpy, and
 * stride 2 (2x2 pooling) gets its own loop with a constant stride. */
static void copy_run(ag_real *restrict dst, const ag_real *restrict src, size_t n, size_t s,
                     int acc)
{
    if (acc && s == 1)
        for (size_t i = 0; i < n; i++) dst[i] += src[i];
    else if (acc)
        for (size_t i = 0; i < n; i++) dst[i] += src[i * s];
    else if (s == 1)
        for (size_t i = 0; i < n; i++) dst[i] = src[i];
    else if (s == 2)
        for (size_t i = 0; i < n; i++) dst[i] = src[2 * i];
    else
        for (size_t i = 0; i < n; i++) dst[i] = src[i * s];
}

static void im2col_general(const ag_real *x, size_t c, size_t h, size_t w, const ag_window2d *g,
                           size_t oh, size_t ow, int acc, ag_real pv, ag_real *cols)
{
    const size_t L = oh * ow, sh = g->stride_h, sw = g->stride_w;
    if (acc) /* the padding adds nothing */
        pv = 0;
    for (size_t ch = 0; ch < c; ch++) {
        const ag_real *xc = x + ch * h * w;
        for (size_t ki = 0; ki < g->kh; ki++) {
            size_t y0, y1, x0, x1;
            tap_range(ki, h, oh, sh, g->pad_h, g->dil_h, &y0, &y1);
            size_t iy0 = y0 * sh + ki * g->dil_h - g->pad_h; /* input row of output row y0 */
            for (size_t kj = 0; kj < g->kw; kj++) {
                ag_real *row = cols + ((ch * g->kh + ki) * g->kw + kj) * L;
                tap_range(kj, w, ow, sw, g->pad_w, g->dil_w, &x0, &x1);
                size_t nx = x1 - x0, ix0 = x0 * sw + kj * g->dil_w - g->pad_w;
                if (!acc)
                    fill(row, y0 * ow, pv);
                for (size_t oy = y0; oy < y1; oy++) {
                    ag_real *r = row + oy * ow;
                    if (nx)
                        copy_run(r + x0, xc + (iy0 + (oy - y0) * sh) * w + ix0, nx, sw, acc);
                    if (!acc) {
                        fill(r, x0, pv);
                        fill(r + x1, ow - x1, pv);
                    }
                }
                if (!acc)
                    fill(row + y1 * ow, (oh - y1) * ow, pv);
            }
        }
    }
}

static void col2im_general(const ag_real *cols, size_t c, size_t h, size_t w,
                           const ag_window2d *g, size_t oh, size_t ow, ag_real *x)
{
    const size_t L = oh * ow, sh = g->stride_h, sw = g->stride_w;
    for (size_t ch = 0; ch < c; ch++) {
        ag_real *xc = x + ch * h * w;
        for (size_t ki = 0; ki < g->kh; ki++) {
            size_t y0, y1, x0, x1;
            tap_range(ki, h, oh, sh, g->pad_h, g->dil_h, &y0, &y1);
            size_t iy0 = y0 * sh + ki * g->dil_h - g->pad_h;
            for (size_t kj = 0; kj < g->kw; kj++) {
                const ag_real *row = cols + ((ch * g->kh + ki) * g->kw + kj) * L;
                tap_range(kj, w, ow, sw, g->pad_w, g->dil_w, &x0, &x1);
                size_t nx = x1 - x0, ix0 = x0 * sw + kj * g->dil_w - g->pad_w;
                if (!nx)
                    continue;
                for (size_t oy = y0; oy < y1; oy++) {
                    const ag_real *r = row + oy * ow + x0;
                    ag_real *dst = xc + (iy0 + (oy - y0) * sh) * w + ix0;
                    if (sw == 1)
                        for (size_t i = 0; i < nx; i++) dst[i] += r[i];
                    else
                        for (size_t i = 0; i < nx; i++) dst[i * sw] += r[i];
                }
            }
        }
    }
}

/* ---- the common case: each tap's rows read straight from a plane ----
 *
 * With the padding made real (a plane of (h + 2ph) x (w + 2pw) values: the
 * image inside a border of pv), every output row of tap (ki, kj) is ow
 * values read at one stride from one row of the plane: no bounds, no fills.
 * Padded planes up to PLANE_MAX values live on the stack; without padding
 * the image itself is the plane. This path is 3-4x faster than the general
 * one on a 5x5 convolution of 14x14 images (the runs are short, so the
 * per-run tests and scalar tails were most of the work). */
enum { PLANE_MAX = 4096 };

static int plane_fits(const ag_window2d *g, size_t h, size_t w)
{
    return (!g->pad_h && !g->pad_w) ||
           (h + 2 * g->pad_h <= PLANE_MAX && (w + 2 * g->pad_w) <= PLANE_MAX / (h + 2 * g->pad_h));
}

/* dst[i] = src[i], i < n: whole blocks, then one last block overlapping the
 * one before it instead of a scalar tail. */
static inline void copy_row(ag_real *restrict dst, const ag_real *restrict src, size_t n)
{
    enum { B = 16 };
    const size_t sz = sizeof *dst;
    if (n >= B) {
        size_t j = 0;
        for (; j + B <= n; j += B) memcpy(dst + j, src + j, B * sz);
        if (j < n)
            memcpy(dst + n - B, src + n - B, B * sz);
    } else if (n >= 8) {
        memcpy(dst, src, 8 * sz);
        memcpy(dst + n - 8, src + n - 8, 8 * sz);
    } else if (n >= 4) {
        memcpy(dst, src, 4 * sz);
        memcpy(dst + n - 4, src + n - 4, 4 * sz);
    } else {
        for (size_t i = 0; i < n; i++) dst[i] = src[i];
    }
}

/* the border of a (h + 2ph) x (w + 2pw) plane set to v */
static void plane_border(ag_real *p, size_t h, size_t w, size_t ph, size_t pw, ag_real v)
{
    size_t ld = w + 2 * pw;
    fill(p, ph * ld, v);
    for (size_t y = 0; y < h; y++) {
        fill(p + (ph + y) * ld, pw, v);
        fill(p + (ph + y) * ld + pw + w, pw, v);
    }
    fill(p + (ph + h) * ld, ph * ld, v);
}

static void im2col_plane(const ag_real *x, size_t c, size_t h, size_t w, const ag_window2d *g,
                         size_t oh, size_t ow, ag_real pv, ag_real *cols)
{
    const size_t L = oh * ow, ph = g->pad_h, pw = g->pad_w, sh = g->stride_h, sw = g->stride_w;
    const int padded = ph || pw;
    ag_real plane[PLANE_MAX];
    size_t ld = padded ? w + 2 * pw : w;
    if (padded)
        plane_border(plane, h, w, ph, pw, pv);
    for (size_t ch = 0; ch < c; ch++) {
        const ag_real *p = x + ch * h * w;
        if (padded) {
            for (size_t y = 0; y < h; y++) copy_row(plane + (ph + y) * ld + pw, p + y * w, w);
            p = plane;
        }
        for (size_t ki = 0; ki < g->kh; ki++) {
            ag_real *tap = cols + (ch * g->kh + ki) * g->kw * L;
            if (g->kw == 2 && sw == 2 && g->dil_w == 1) { /* 2x2 pooling: both taps in one pass */
                const ag_real *s = p + ki * g->dil_h * ld;
                for (size_t oy = 0; oy < oh; oy++, s += sh * ld)
                    for (size_t i = 0; i < ow; i++) {
                        tap[oy * ow + i] = s[2 * i];
                        tap[L + oy * ow + i] = s[2 * i + 1];
                    }
                continue;
            }
            for (size_t kj = 0; kj < g->kw; kj++) {
                ag_real *row = tap + kj * L;
                const ag_real *s = p + ki * g->dil_h * ld + kj * g->dil_w;
                for (size_t oy = 0; oy < oh; oy++, row += ow, s += sh * ld)
                    if (sw == 1)
                        copy_row(row, s, ow);
                    else
                        copy_run(row, s, ow, sw, 0);
            }
        }
    }
}

static void col2im_plane(const ag_real *cols, size_t c, size_t h, size_t w, const ag_window2d *g,
                         size_t oh, size_t ow, ag_real *x)
{
    const size_t L = oh * ow, ph = g->pad_h, pw = g->pad_w, sh = g->stride_h, sw = g->stride_w;
    const int padded = ph || pw;
    ag_real plane[PLANE_MAX];
    size_t ld = padded ? w + 2 * pw : w;
    for (size_t ch = 0; ch < c; ch++) {
        ag_real *p = x + ch * h * w;
        if (padded) {
            fill(plane, (h + 2 * ph) * ld, 0);
            p = plane;
        }
        for (size_t ki = 0; ki < g->kh; ki++) {
            const ag_real *tap = cols + (ch * g->kh + ki) * g->kw * L;
            if (g->kw == 2 && sw == 2 && g->dil_w == 1) {
                /* 2-wide windows side by side (2x2 pooling): both taps of
                 * a row in one pass, each pixel written once */
                ag_real *d = p + ki * g->dil_h * ld;
                for (size_t oy = 0; oy < oh; oy++, d += sh * ld)
                    for (size_t i = 0; i < ow; i++) {
                        d[2 * i] += tap[oy * ow + i];
                        d[2 * i + 1] += tap[L + oy * ow + i];
                    }
                continue;
            }
            for (size_t kj = 0; kj < g->kw; kj++) {
                const ag_real *row = tap + kj * L;
                ag_real *d = p + ki * g->dil_h * ld + kj * g->dil_w;
                for (size_t oy = 0; oy < oh; oy++, row += ow, d += sh * ld)
                    if (sw == 1)
                        for (size_t i = 0; i < ow; i++) d[i] += row[i];
                    else
                        for (size_t i = 0; i < ow; i++) d[i * sw] += row[i];
            }
        }
        if (padded) /* the interior back into the image; the border is dropped */
            for (size_t y = 0; y < h; y++) {
                ag_real *xr = x + ch * h * w + y * w;
                const ag_real *pr = plane + (ph + y) * ld + pw;
                for (size_t i = 0; i < w; i++) xr[i] += pr[i];
            }
    }
}

void agi_im2col(const ag_real *x, size_t c, size_t h, size_t w, const ag_window2d *g, size_t oh,
                size_t ow, int acc, ag_real pv, ag_real *cols)
{
    if (!acc && plane_fits(g, h, w))
        im2col_plane(x, c, h, w, g, oh, ow, pv, cols);
    else
        im2col_general(x, c, h, w, g, oh, ow, acc, pv, cols);
}

void agi_col2im(const ag_real *cols, size_t c, size_t h, size_t w, const ag_window2d *g, size_t oh,
                size_t ow, ag_real *x)
{
    if (plane_fits(g, h, w))
        col2im_plane(cols, c, h, w, g, oh, ow, x);
    else
        col2im_general(cols, c, h, w, g, oh, ow, x);
}

int ag_window2d_out(const ag_window2d *g, size_t h, size_t w, size_t *oh, size_t *ow)
{
    size_t a, b;
    if (!g)
        return -1;
    ag_window2d n = agi_window_norm(g);
    if (agi_window_check(&n, h, w, &a, &b, NULL, 0))
        return -1;
    if (oh) *oh = a;
    if (ow) *ow = b;
    return 0;
}

agi_window_geom agi_window_geom_of(const ag_window2d *g, const size_t *nchw)
{
    agi_window_geom k = {nchw[0], nchw[1], nchw[2], nchw[3], 0, 0, 0, 0};
    ag_window2d_out(g, k.h, k.w, &k.oh, &k.ow);
    k.img = k.c * k.h * k.w;
    k.cols = k.c * g->kh * g->kw * k.oh * k.ow;
    return k;
}

typedef struct batch_job {
    const ag_real *src;
    ag_real *dst;
    const agi_window_geom *k;
    const ag_window2d *g;
    int acc, to_cols; /* acc: im2col adds; col2im zeroes each image first */
    ag_real pv;
} batch_job;

static void batch_task(void *ctx, size_t lo, size_t hi)
{
    const batch_job *b = ctx;
    const agi_window_geom *k = b->k;
    for (size_t i = lo; i < hi; i++) {
        if (b->to_cols)
            agi_im2col(b->src + i * k->img, k->c, k->h, k->w, b->g, k->oh, k->ow, b->acc, b->pv,
                       b->dst + i * k->cols);
        else {
            if (b->acc) /* zero first */
                memset(b->dst + i * k->img, 0, k->img * sizeof(ag_real));
            agi_col2im(b->src + i * k->cols, k->c, k->h, k->w, b->g, k->oh, k->ow,
                       b->dst + i * k->img);
        }
    }
}

/* Images per chunk: enough that a chunk moves some 64K values. */
static size_t min_images(const agi_window_geom *k)
{
    size_t per = k->cols + k->img;
    return per >= 65536 ? 1 : 65536 / (per ? per : 1);
}

void agi_im2col_batch(const ag_real *x, const agi_window_geom *k, const ag_window2d *g, int acc,
                      ag_real pv, ag_real *cols)
{
    batch_job b = {x, cols, k, g, acc, 1, pv};
    agi_parallel_for(k->n, min_images(k), batch_task, &b);
}

void agi_col2im_batch(const ag_real *cols, const agi_window_geom *k, const ag_window2d *g,
                      int zero, ag_real *x)
{
    batch_job b = {cols, x, k, g, zero, 0, 0};
    agi_parallel_for(k->n, min_images(k), batch_task, &b);
}
