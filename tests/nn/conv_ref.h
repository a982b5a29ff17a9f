/* Naive convolution and pooling written straight from the definitions, in
 * double: the references the conv and pool suites compare the layers with. */
#ifndef AGRAD_TEST_CONV_REF_H
#define AGRAD_TEST_CONV_REF_H

#include <math.h>
#include <stddef.h>
#include "agrad.h"

typedef struct conv_case {
    size_t n, c, h, w;     /* input */
    size_t o, kh, kw;      /* output channels, kernel */
    size_t stride, pad, dil;
} conv_case;

static inline size_t ref_out(size_t n, size_t k, size_t s, size_t p, size_t d)
{
    return (n + 2 * p - d * (k - 1) - 1) / s + 1;
}

/* Pixel (y, x) of channel plane p (h x w), or *inside = 0 outside it. */
static inline double ref_px(const ag_real *p, size_t h, size_t w, long y, long x, int *inside)
{
    *inside = y >= 0 && x >= 0 && y < (long)h && x < (long)w;
    return *inside ? (double)p[(size_t)y * w + (size_t)x] : 0.0;
}

/* y[n, o, i, j] = b[o] + sum_{c,a,e} w[o,c,a,e] x[n, c, i s + a d - p, j s + e d - p] */
static inline void ref_conv2d(const conv_case *k, const ag_real *x, const ag_real *w,
                              const ag_real *b, double *y)
{
    size_t oh = ref_out(k->h, k->kh, k->stride, k->pad, k->dil);
    size_t ow = ref_out(k->w, k->kw, k->stride, k->pad, k->dil);
    for (size_t n = 0; n < k->n; n++)
        for (size_t o = 0; o < k->o; o++)
            for (size_t i = 0; i < oh; i++)
                for (size_t j = 0; j < ow; j++) {
                    double s = b ? (double)b[o] : 0.0;
                    for (size_t c = 0; c < k->c; c++)
                        for (size_t a = 0; a < k->kh; a++)
                            for (size_t e = 0; e < k->kw; e++) {
                                int in;
                                long yy = (long)(i * k->stride + a * k->dil) - (long)k->pad;
                                long xx = (long)(j * k->stride + e * k->dil) - (long)k->pad;
                                double v = ref_px(x + (n * k->c + c) * k->h * k->w, k->h, k->w,
                                                  yy, xx, &in);
                                s += (double)w[((o * k->c + c) * k->kh + a) * k->kw + e] * v;
                            }
                    *y++ = s;
                }
}

/* Max (padding never wins) or mean (padding counts as 0, divisor k*k) of
 * each k x k window. */
static inline void ref_pool2d(const conv_case *k, const ag_real *x, int is_max, double *y)
{
    size_t oh = ref_out(k->h, k->kh, k->stride, k->pad, 1);
    size_t ow = ref_out(k->w, k->kw, k->stride, k->pad, 1);
    for (size_t p = 0; p < k->n * k->c; p++)
        for (size_t i = 0; i < oh; i++)
            for (size_t j = 0; j < ow; j++) {
                double m = -INFINITY, s = 0;
                for (size_t a = 0; a < k->kh; a++)
                    for (size_t e = 0; e < k->kw; e++) {
                        int in;
                        double v = ref_px(x + p * k->h * k->w, k->h, k->w,
                                          (long)(i * k->stride + a) - (long)k->pad,
                                          (long)(j * k->stride + e) - (long)k->pad, &in);
                        if (in && v > m)
                            m = v;
                        s += v;
                    }
                *y++ = is_max ? m : s / (double)(k->kh * k->kw);
            }
}

#endif
